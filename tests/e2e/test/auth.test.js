'use strict';
// Namespace auth (`auth: {type: jwt, ...}` in the gateway config,
// gateway/socketio/auth/) and the sender-identity rules, through the stock
// socket.io-client:
//  - a CONNECT without a valid HS256 token gets connect_error with a reason
//    ("missing token", "invalid token", "token expired", ...), counted in
//    GET /metrics and logged without the token or the secret;
//  - the token's "rooms" and "publish" claims limit the socket;
//  - a missing secret stops the gateway at startup;
//  - no client can join another socket's id room, while other 20-character
//    names of the same shape ("internationalization") are ordinary rooms;
//  - envelope-looking fields in a client's args change nothing.
// The auth policy and the reserved socket-id rooms are roomq features (the
// Socket.IO reference server has no config-driven middleware): those tests
// are skipped on E2E_TARGET=reference. The spoofing test and the
// id-shaped-names test run on both.

const {describe, test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {execFileSync} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {startStack, TARGET, BIN_DIR} = require('../harness/stack');
const {Child} = require('../harness/process');
const {ack, closeAll, connect, connectError, withTimeout} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: the reference server has no config auth' : false;
const ROOMQ_ONLY_ROOMS =
    TARGET === 'reference' ? 'roomq feature: Socket.IO lets a client join any room, socket ids included' : false;
const ROOMQ_ONLY_IDS = TARGET === 'reference' ? 'roomq feature: Socket.IO\'s ids carry no check' : false;
const SECRET_ENV = 'ROOMQ_E2E_JWT_SECRET';
const SECRET = crypto.randomBytes(24).toString('hex');
const FILE_SECRET = crypto.randomBytes(24).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roomq-e2e-auth-'));
const secretFile = path.join(tmp, 'jwt.key');
fs.writeFileSync(secretFile, FILE_SECRET + '\n');

const CONFIG = `namespaces:
  - name: /
    join: '.*'
    relay: broadcast
  - name: /secure
    join: '(lobby|team-.*|admin)'
    relay: broadcast
    auth:
      type: jwt
      secret_env: ${SECRET_ENV}
      audience: roomq-e2e
  - name: /filed
    relay: none
    auth: {type: jwt, secret_file: '${secretFile}'}
  - name: /expiring
    join: '.*'
    recovery: {max_disconnection: 30s}
    auth: {type: jwt, secret_env: ${SECRET_ENV}, audience: roomq-e2e, leeway: 0s}
`;

function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

// An HS256 JWT over `claims`, signed here with node:crypto.
function sign(claims, {key = SECRET, header = {alg: 'HS256', typ: 'JWT'}} = {}) {
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signing}.${crypto.createHmac('sha256', key).update(signing).digest('base64url')}`;
}

function claims(extra = {}) {
  return {sub: 'alice', aud: 'roomq-e2e', exp: Math.floor(Date.now() / 1000) + 600, ...extra};
}

let stack;
before(async () => {
  const configFile = path.join(tmp, 'gateway.yaml');
  fs.writeFileSync(configFile, CONFIG);
  if (TARGET === 'reference') {
    stack = await startStack({config: {namespaces: [{name: '/', join: '.*', relay: 'broadcast'}]}});
    return;
  }
  process.env[SECRET_ENV] = SECRET;  // inherited by the gateway
  stack = await startStack({configFile});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
  fs.rmSync(tmp, {recursive: true, force: true});
});

function client(nsp, token, transport = 'websocket') {
  return connect(stack.url, nsp, {transports: [transport], ...(token === undefined ? {} : {auth: {token}})});
}
function refusal(nsp, auth) {
  return connectError(stack.url, nsp, {transports: ['websocket'], ...(auth === undefined ? {} : {auth})});
}

async function metrics() {
  const res = await fetch(stack.metricsUrl());
  assert.equal(res.status, 200);
  return res.text();
}
function counter(text, reason) {
  const m = new RegExp(`^roomq_gateway_auth_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('jwt namespace auth', {skip: ROOMQ_ONLY}, () => {
  test('a CONNECT without a valid token is refused with a reason, counted and logged', async () => {
    const before = await metrics();
    const expired = sign(claims({exp: Math.floor(Date.now() / 1000) - 3600}));
    const wrongKey = sign(claims(), {key: 'not the secret'});
    const algNone = `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims()))}.`;
    const hs512 = sign(claims(), {header: {alg: 'HS512'}});
    const cases = [
      [undefined, 'missing token'],
      [{token: 42}, 'missing token'],
      [{token: 'not.a.jwt'}, 'invalid token'],
      [{token: wrongKey}, 'invalid token'],
      [{token: algNone}, 'invalid token'],
      [{token: hs512}, 'invalid token'],
      [{token: expired}, 'token expired'],
      [{token: sign(claims({nbf: Math.floor(Date.now() / 1000) + 3600}))}, 'token not yet valid'],
      [{token: sign(claims({aud: 'someone-else'}))}, 'invalid audience'],
    ];
    for (const [auth, reason] of cases) {
      const err = await refusal('/secure', auth);
      assert.equal(err.message, reason, JSON.stringify(auth));
    }
    // The polling transport goes through the same CONNECT path.
    const polling = await connectError(stack.url, '/secure', {transports: ['polling'], auth: {token: wrongKey}});
    assert.equal(polling.message, 'invalid token');

    const after = await metrics();
    assert.equal(counter(after, 'missing token') - counter(before, 'missing token'), 2);
    assert.equal(counter(after, 'invalid token') - counter(before, 'invalid token'), 5);
    assert.equal(counter(after, 'token expired') - counter(before, 'token expired'), 1);
    assert.equal(counter(after, 'invalid audience') - counter(before, 'invalid audience'), 1);

    const gateway = stack.gateways[0];
    await gateway.waitForLine(/CONNECT to "\/secure" refused: token expired/);
    await gateway.waitForLine(/CONNECT to "\/secure" refused: invalid token \(bad signature\)/);
    const log = gateway.lines.join('\n');
    for (const secret of [SECRET, FILE_SECRET, wrongKey, expired, wrongKey.split('.')[2]]) {
      assert.ok(!log.includes(secret), 'the log never carries a secret or a token');
    }
  });

  test('a valid token connects, on both transports and with a secret_file', async () => {
    const token = sign(claims());
    const ws = await client('/secure', token);
    const polling = await client('/secure', token, 'polling');
    assert.ok(ws.connected && polling.connected);
    const filed = await client('/filed', sign(claims(), {key: FILE_SECRET}));
    assert.ok(filed.connected);
    const err = await refusal('/filed', {token});
    assert.equal(err.message, 'invalid token', 'each namespace has its own key');
    // The open namespace needs no token.
    assert.ok((await client('/')).connected);
    // An Engine.IO session id is a bearer credential (it can poll and post as
    // that session): the log names sessions by a digest only.
    const gateway = stack.gateways[0];
    for (const s of [ws, polling]) await gateway.waitForLine(new RegExp(`socket connected: id=${s.id} `));
    const log = gateway.lines.join('\n');
    for (const s of [ws, polling]) {
      assert.ok(!log.includes(s.io.engine.id), 'the log never carries an Engine.IO session id');
    }
    assert.match(log, /session=sid:[0-9a-f]{8} /);
  });

  test('a socket is disconnected when its token expires, and a fresh token recovers it', async () => {
    // The refresh path: an `auth` callback (called on every (re)connection)
    // hands out the newest token; on "io server disconnect" the app
    // reconnects, and connection state recovery gives back the same socket
    // and what it missed.
    let token = sign(claims({exp: Math.floor(Date.now() / 1000) + 2}));
    const s = await connect(stack.url, '/expiring', {transports: ['websocket'], auth: (cb) => cb({token})});
    assert.deepEqual(await ack(s, 'join', 'news'), {ok: true});
    const id = s.id;
    const reason = await withTimeout(new Promise((resolve) => s.once('disconnect', resolve)), 10000, 'expiry');
    assert.equal(reason, 'io server disconnect');
    // Published while it is away: replayed on recovery.
    const other = await client('/expiring', sign(claims()));
    assert.deepEqual(await ack(other, 'publish', 'news', 'headline', 'while away'), {ok: true});
    token = sign(claims());
    s.connect();
    await withTimeout(new Promise((resolve) => s.once('connect', resolve)), 10000, 'reconnect');
    assert.equal(s.recovered, true);
    assert.equal(s.id, id);
    await s.rec.waitFor('headline', (text) => text === 'while away');
    assert.match(await (await fetch(stack.metricsUrl())).text(),
                 /^roomq_gateway_disconnects_total\{reason="token expired"\} 1$/m);
  });

  test('the "rooms" claim narrows the namespace join policy', async () => {
    const s = await client('/secure', sign(claims({rooms: ['lobby', '^team-[a-c]$']})));
    assert.deepEqual(await ack(s, 'join', 'lobby'), {ok: true});
    assert.deepEqual(await ack(s, 'join', 'team-b'), {ok: true});
    assert.ok((await ack(s, 'join', 'admin')).error, 'allowed by join, not by the claim');
    assert.ok((await ack(s, 'join', 'team-z')).error);
    const unlimited = await client('/secure', sign(claims()));
    assert.deepEqual(await ack(unlimited, 'join', 'admin'), {ok: true});
    assert.ok((await ack(unlimited, 'join', 'elsewhere')).error, 'the namespace join still applies');
  });

  test('"publish": false forbids publish and relaying', async () => {
    const muted = await client('/secure', sign(claims({publish: false})));
    const listener = await client('/secure', sign(claims()));
    const speaker = await client('/secure', sign(claims({publish: true})));
    for (const s of [muted, listener, speaker]) assert.deepEqual(await ack(s, 'join', 'lobby'), {ok: true});
    assert.deepEqual(await ack(muted, 'publish', 'lobby', 'chat', 'from muted'), {error: 'publishing is not allowed'});
    muted.emit('chat', 'relayed from muted');
    // Causal marker: the speaker's event comes after the muted socket's.
    assert.deepEqual(await ack(speaker, 'publish', 'lobby', 'chat', 'from speaker'), {ok: true});
    await listener.rec.waitFor('chat', (text) => text === 'from speaker');
    speaker.emit('chat', 'relayed from speaker');
    await listener.rec.waitFor('chat', (text) => text === 'relayed from speaker');
    assert.deepEqual(listener.rec.received('chat').map((e) => e.args[0]), ['from speaker', 'relayed from speaker']);
    // The muted socket still receives.
    await muted.rec.waitFor('chat', (text) => text === 'relayed from speaker');
  });

  test('a missing or empty secret stops the gateway at startup, naming the variable only', async () => {
    const configFile = path.join(tmp, 'missing.yaml');
    fs.writeFileSync(configFile, 'namespaces:\n  - name: /\n    auth: {type: jwt, secret_env: ROOMQ_E2E_UNSET_SECRET}\n');
    const env = {...process.env, ROOMQ_E2E_UNSET_SECRET: ''};
    const child = new Child('gateway-no-secret', path.join(BIN_DIR, 'roomq-gateway'),
                            ['--listen', '127.0.0.1:0', '--broker-pub', stack.brokerPub,
                             '--broker-sub', stack.brokerSub, '--config', configFile], {env});
    await child.waitForLine(/ROOMQ_E2E_UNSET_SECRET is unset or empty/);
    await child.exitPromise;
    assert.notEqual(child.exitCode, 0);
  });
});

describe('socket-id rooms are reserved', {skip: ROOMQ_ONLY_ROOMS}, () => {
  test("no client joins another socket's id room, so private messages stay private", async () => {
    const [victim, attacker, sender] = await Promise.all([client('/'), client('/'), client('/')]);
    const refused = await ack(attacker, 'join', victim.id);
    assert.ok(refused && refused.error, `join of another socket's id: ${JSON.stringify(refused)}`);
    // Its own id is fine (it is already there).
    assert.deepEqual(await ack(attacker, 'join', attacker.id), {ok: true});
    for (const s of [victim, attacker]) assert.deepEqual(await ack(s, 'join', 'both'), {ok: true});
    // A private message to the victim, sent as a native service does (no
    // client may publish into a socket's room), then a marker to a room
    // both are in.
    execFileSync(path.join(BIN_DIR, 'roomq'), ['pub', '--broker-pub', stack.brokerPub, '--broker-sub',
                                              stack.brokerSub, '--ns', '/', '--room', victim.id,
                                              '--event', 'private', '"for the victim"']);
    assert.deepEqual(await victim.rec.waitFor('private'), ['for the victim']);
    assert.deepEqual(await ack(sender, 'publish', 'both', 'marker'), {ok: true});
    await attacker.rec.waitFor('marker');
    assert.equal(attacker.rec.received('private').length, 0);
  });
});

// The socket-id check of gateway/socketio/auth/socket_auth.h: an id is 16
// random base64url characters, then base64url of the first 3 bytes of
// SHA-256("roomq-sid:" + those 16).
function isIssuedSocketId(name) {
  if (!/^[A-Za-z0-9_-]{20}$/.test(name)) return false;
  const check = crypto.createHash('sha256').update(`roomq-sid:${name.slice(0, 16)}`).digest().subarray(0, 3);
  return name.slice(16) === check.toString('base64url');
}

describe('socket ids carry their check', {skip: ROOMQ_ONLY_IDS}, () => {
  test('every socket id the gateway hands out verifies, on both transports', async () => {
    const sockets = await Promise.all([client('/'), client('/'), client('/', undefined, 'polling')]);
    for (const s of sockets) assert.ok(isIssuedSocketId(s.id), `socket id ${s.id}`);
    // A name that verifies is refused even though no socket has it (it could
    // be a socket on another gateway).
    const forged = 'ABCDEFGHIJKLMNOP' + crypto.createHash('sha256').update('roomq-sid:ABCDEFGHIJKLMNOP')
        .digest().subarray(0, 3).toString('base64url');
    assert.ok(isIssuedSocketId(forged));
    const refused = await ack(sockets[0], 'join', forged);
    assert.ok(refused && refused.error, `join of a verifying name: ${JSON.stringify(refused)}`);
  });
});

describe('names shaped like socket ids', () => {
  test('20-character names that are not socket ids are ordinary rooms', async () => {
    const [a, b] = await Promise.all([client('/'), client('/')]);
    const rooms = ['internationalization', 'ABCDEFGHIJKLMNOPQRST', 'QpZ3xR7mN2kL9vB4tY6w'];
    for (const room of rooms) {
      assert.ok(!isIssuedSocketId(room), room);
      for (const s of [a, b]) assert.deepEqual(await ack(s, 'join', room), {ok: true}, room);
    }
    for (const room of rooms) {
      assert.deepEqual(await ack(a, 'publish', room, 'word', room), {ok: true});
      assert.deepEqual(await b.rec.waitFor('word', (m) => m === room), [room]);
    }
  });
});

describe('sender identity', () => {
  test('envelope fields in a client\'s args are opaque data, never routing', async () => {
    const [a, b, c] = await Promise.all([client('/'), client('/'), client('/')]);
    for (const s of [a, b, c]) assert.deepEqual(await ack(s, 'join', 'spoof'), {ok: true});
    const forged = {except_socket: b.id, socket_id: b.id, origin: 'gw-forged', rooms: ['elsewhere'], except_rooms: ['spoof']};
    assert.deepEqual(await ack(a, 'publish', 'spoof', 'chat', forged), {ok: true});
    assert.deepEqual(await b.rec.waitFor('chat'), [forged]);
    assert.deepEqual(await c.rec.waitFor('chat'), [forged]);
    // A plain event (relay broadcast) carrying the same fields.
    a.emit('note', forged);
    assert.deepEqual(await b.rec.waitFor('note'), [forged]);
    assert.deepEqual(await c.rec.waitFor('note'), [forged]);
    // Sender exclusion is the real sender's: b's publish reaches a and c, not b.
    assert.deepEqual(await ack(b, 'publish', 'spoof', 'chat', {except_socket: a.id}), {ok: true});
    await a.rec.waitFor('chat', (m) => m.except_socket === a.id);
    await c.rec.waitFor('chat', (m) => m.except_socket === a.id);
    // Causal marker for b: published after b's message reached c.
    assert.deepEqual(await ack(c, 'publish', 'spoof', 'marker'), {ok: true});
    await b.rec.waitFor('marker');
    assert.equal(b.rec.received('chat').length, 1);
    assert.equal(a.rec.received('chat').length, 1);
  });
});
