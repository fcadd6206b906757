// roomq chat: a browser client of roomq-gateway using the stock
// socket.io-client bundle the gateway serves at /socket.io/socket.io.min.js.
//
// Conventions used (see the gateway's README / gateway/socketio):
//   join(room, ack) / leave(room, ack)      ack {"ok":true} or {"error":"..."}
//   publish(room, event, payload, ack)      to everyone else in the room; the
//                                           sender shows its own message
//                                           locally (local echo), so it
//                                           appears once for everybody
// Events between pages: "chat message" {room, from, text, id} and
// "typing" {room, from}. The gateway forgets a socket's rooms when it
// disconnects, so after a reconnection every joined room is joined again.
(function () {
  'use strict';

  const ACK_TIMEOUT_MS = 5000;
  const TYPING_SEND_EVERY_MS = 1000;
  const TYPING_SHOW_MS = 3000;
  const DEFAULT_ROOMS = ['general', 'random'];

  const $ = (id) => document.getElementById(id);
  const app = $('app');

  const state = {
    nick: '',
    namespace: '/',
    socket: null,
    rooms: new Map(),  // name -> {joined, pending, messages: [], unread, typers: Map(nick -> timer)}
    current: null,
    lastTypingSent: 0,
    nextId: 1,
  };

  // ---- namespaces --------------------------------------------------------

  // A namespace is a path on this page's own origin: anything that could
  // name another host ("//evil.example", "https://...", "\\host") is dropped,
  // whatever the query string says.
  const NAMESPACE = /^\/(?:[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*)?$/;

  function namespaces() {
    const fromQuery = new URLSearchParams(location.search).get('namespaces');
    const list = (fromQuery || app.dataset.namespaces || '/').split(',').map((s) => s.trim()).filter(Boolean);
    const paths = list.map((n) => (n.startsWith('/') ? n : `/${n}`)).filter((n) => NAMESPACE.test(n));
    return [...new Set(paths.length ? paths : ['/'])];
  }

  function fillNamespaceSelect() {
    const select = $('ns-select');
    const wanted = new URLSearchParams(location.search).get('ns');
    for (const name of namespaces()) {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      select.appendChild(option);
    }
    if (wanted && namespaces().includes(wanted)) select.value = wanted;
    state.namespace = select.value;
    select.addEventListener('change', () => switchNamespace(select.value));
  }

  // ---- connection --------------------------------------------------------

  function setStatus(kind, text) {
    const status = $('status');
    status.dataset.state = kind;
    status.textContent = text || kind;
  }

  function showError(message) {
    const error = $('error');
    error.textContent = message;
    error.hidden = !message;
  }

  function connect() {
    // Always this page's origin: the namespace is only ever a path on it.
    const socket = io(location.origin + state.namespace);
    state.socket = socket;
    setStatus('connecting', 'connecting…');

    socket.on('connect', () => {
      if (socket !== state.socket) return;
      setStatus('connected', `connected as ${state.nick}`);
      showError('');
      rejoinRooms();
    });
    socket.on('disconnect', (reason) => {
      if (socket !== state.socket) return;
      for (const room of state.rooms.values()) room.typers.clear();
      renderTyping();
      if (reason === 'io client disconnect') setStatus('disconnected');
      else setStatus('reconnecting', 'reconnecting…');
    });
    socket.on('connect_error', (err) => {
      if (socket !== state.socket) return;
      if (socket.active) {
        setStatus('reconnecting', 'reconnecting…');
      } else {
        setStatus('error', 'not connected');
        showError(`cannot connect to ${state.namespace}: ${err.message}`);
      }
    });
    socket.io.on('reconnect_attempt', () => {
      if (socket === state.socket) setStatus('reconnecting', 'reconnecting…');
    });
    socket.io.on('reconnect_failed', () => {
      if (socket === state.socket) setStatus('disconnected', 'disconnected (gave up)');
    });

    socket.on('chat message', (msg) => {
      if (!isMessage(msg)) return;
      const room = state.rooms.get(msg.room);
      if (!room || !room.joined) return;
      stopTyping(room, msg.from);
      addMessage(msg.room, {from: msg.from, text: msg.text, mine: false});
    });
    socket.on('typing', (msg) => {
      if (!msg || typeof msg.room !== 'string' || typeof msg.from !== 'string') return;
      const room = state.rooms.get(msg.room);
      if (!room || !room.joined || msg.from === state.nick) return;
      clearTimeout(room.typers.get(msg.from));
      room.typers.set(msg.from, setTimeout(() => stopTyping(room, msg.from), TYPING_SHOW_MS));
      renderTyping();
    });
  }

  function isMessage(msg) {
    return msg && typeof msg.room === 'string' && typeof msg.from === 'string' && typeof msg.text === 'string';
  }

  function switchNamespace(name) {
    if (state.socket) state.socket.disconnect();
    state.namespace = name;
    state.rooms.clear();
    state.current = null;
    for (const room of DEFAULT_ROOMS) ensureRoom(room);
    renderRooms();
    renderConversation();
    connect();
  }

  // Calls `event` with an ack; resolves with the reply or {error} on timeout.
  function request(...args) {
    return new Promise((resolve) => {
      state.socket.timeout(ACK_TIMEOUT_MS).emit(...args, (err, reply) => {
        if (err) resolve({error: 'no answer from the server'});
        else resolve(reply && typeof reply === 'object' ? reply : {error: 'unexpected answer'});
      });
    });
  }

  // ---- rooms -------------------------------------------------------------

  function ensureRoom(name) {
    let room = state.rooms.get(name);
    if (!room) {
      room = {name, joined: false, pending: false, messages: [], unread: 0, typers: new Map()};
      state.rooms.set(name, room);
    }
    return room;
  }

  async function join(name) {
    const room = ensureRoom(name);
    room.pending = true;
    renderRooms();
    const reply = await request('join', name);
    room.pending = false;
    if (reply.ok) {
      room.joined = true;
      showError('');
      if (!state.current) state.current = name;
    } else {
      showError(`cannot join ${name}: ${reply.error}`);
    }
    renderRooms();
    renderConversation();
  }

  async function leave(name) {
    const room = ensureRoom(name);
    room.pending = true;
    renderRooms();
    const reply = await request('leave', name);
    room.pending = false;
    if (reply.ok) {
      room.joined = false;
      room.typers.clear();
      if (state.current === name) {
        const other = [...state.rooms.values()].find((r) => r.joined);
        state.current = other ? other.name : null;
      }
      showError('');
    } else {
      showError(`cannot leave ${name}: ${reply.error}`);
    }
    renderRooms();
    renderConversation();
  }

  async function rejoinRooms() {
    const joined = [...state.rooms.values()].filter((r) => r.joined);
    for (const room of joined) room.pending = true;
    renderRooms();
    await Promise.all(joined.map(async (room) => {
      const reply = await request('join', room.name);
      room.pending = false;
      if (!reply.ok) {
        room.joined = false;
        showError(`cannot rejoin ${room.name}: ${reply.error}`);
      }
    }));
    renderRooms();
    renderConversation();
  }

  function select(name) {
    state.current = name;
    ensureRoom(name).unread = 0;
    renderRooms();
    renderConversation();
  }

  // ---- messages ----------------------------------------------------------

  function addMessage(roomName, message) {
    const room = ensureRoom(roomName);
    room.messages.push(message);
    if (roomName === state.current) appendMessageElement(message);
    else {
      room.unread++;
      renderRooms();
    }
    return message;
  }

  async function send(text) {
    const roomName = state.current;
    if (!roomName || !text) return;
    const id = `${state.nick}-${Date.now()}-${state.nextId++}`;
    const message = addMessage(roomName, {from: state.nick, text, mine: true, pending: true});
    const reply = await request('publish', roomName, 'chat message', {room: roomName, from: state.nick, text, id});
    message.pending = false;
    if (!reply.ok) message.error = reply.error;
    updateMessageElement(message);
  }

  function stopTyping(room, nick) {
    clearTimeout(room.typers.get(nick));
    if (room.typers.delete(nick)) renderTyping();
  }

  function typed() {
    const now = Date.now();
    if (!state.current || !state.socket || !state.socket.connected) return;
    if (now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    state.lastTypingSent = now;
    state.socket.emit('publish', state.current, 'typing', {room: state.current, from: state.nick});
  }

  // ---- rendering ---------------------------------------------------------

  function renderRooms() {
    const list = $('room-list');
    list.replaceChildren();
    for (const room of state.rooms.values()) {
      const item = document.createElement('li');
      item.className = 'room';
      item.dataset.room = room.name;
      item.dataset.joined = String(room.joined);
      if (room.name === state.current) item.classList.add('current');

      const name = document.createElement('button');
      name.className = 'room-name';
      name.type = 'button';
      name.textContent = room.name;
      name.disabled = !room.joined;
      name.addEventListener('click', () => select(room.name));
      item.appendChild(name);

      if (room.unread > 0) {
        const badge = document.createElement('span');
        badge.className = 'unread';
        badge.textContent = String(room.unread);
        item.appendChild(badge);
      }

      const action = document.createElement('button');
      action.type = 'button';
      action.className = room.joined ? 'leave' : 'join';
      action.textContent = room.joined ? 'Leave' : 'Join';
      action.disabled = room.pending;
      action.addEventListener('click', () => (room.joined ? leave(room.name) : join(room.name)));
      item.appendChild(action);
      list.appendChild(item);
    }
  }

  function renderConversation() {
    const room = state.current && state.rooms.get(state.current);
    $('room-title').textContent = room ? `# ${room.name}` : 'No room selected';
    $('messages').replaceChildren();
    if (room) for (const message of room.messages) appendMessageElement(message);
    const input = $('message-input');
    input.disabled = !room;
    $('send-btn').disabled = !room;
    input.placeholder = room ? `Message #${room.name}` : 'Join a room to chat';
    renderTyping();
  }

  function appendMessageElement(message) {
    const item = document.createElement('li');
    item.className = 'message';
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = message.from;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;
    item.append(from, text);
    message.element = item;
    updateMessageElement(message);
    const list = $('messages');
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function updateMessageElement(message) {
    const item = message.element;
    if (!item) return;
    item.dataset.from = message.from;
    item.classList.toggle('mine', message.mine);
    item.classList.toggle('pending', Boolean(message.pending));
    item.classList.toggle('failed', Boolean(message.error));
    item.title = message.error ? `not delivered: ${message.error}` : '';
  }

  function renderTyping() {
    const room = state.current && state.rooms.get(state.current);
    const names = room ? [...room.typers.keys()] : [];
    const typing = $('typing');
    if (names.length === 0) typing.textContent = '';
    else if (names.length === 1) typing.textContent = `${names[0]} is typing…`;
    else typing.textContent = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are typing…`;
  }

  // ---- wiring ------------------------------------------------------------

  function start(nick) {
    state.nick = nick;
    try {
      localStorage.setItem('roomq-nick', nick);
    } catch (e) {
      // storage unavailable (private mode): the nickname is just not remembered
    }
    $('login').hidden = true;
    $('chat').hidden = false;
    switchNamespace(state.namespace);
  }

  fillNamespaceSelect();

  $('nick-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const nick = $('nick-input').value.trim();
    if (nick) start(nick);
  });
  $('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('room-input').value.trim();
    if (!name) return;
    $('room-input').value = '';
    join(name);
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('message-input');
    const text = input.value.trim();
    input.value = '';
    send(text);
  });
  $('message-input').addEventListener('input', typed);

  try {
    $('nick-input').value = localStorage.getItem('roomq-nick') || '';
  } catch (e) {
    // storage unavailable
  }
})();
