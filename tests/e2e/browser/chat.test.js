'use strict';
// The chat app (gateway/web/static) in a real headless browser: Debian's
// chromium driven by playwright-core, against the gateway serving the page
// and the stock socket.io-client bundle.
//
// Chromium comes from Debian (/usr/bin/chromium, or CHROMIUM_PATH); nothing
// downloads a browser. A screenshot of the chat is saved to
// E2E_ARTIFACT_DIR (default tests/e2e/artifacts/).

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {chromium} = require('playwright-core');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACT_DIR = process.env.E2E_ARTIFACT_DIR || path.join(__dirname, '..', 'artifacts');
const TIMEOUT_MS = 10000;

let stack;
let browser;
const pages = [];

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install chromium (deploy/install-deps.sh --test)`);
  }
  stack = await startStack({
    // roomq: the web root the build assembles (gateway/web/CMakeLists.txt);
    // reference: gateway/web/static.
    staticDir: TARGET === 'roomq' ? path.join(BIN_DIR, '..', 'web') : undefined,
    config: {
      namespaces: [
        ns('/', {join: '.*', relay: 'none'}),
        ns('/chat', {join: 'public-.*', relay: 'none'}),
      ],
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--no-first-run', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

// A fresh browser context (own storage) with the chat open as `nick`.
async function openChat(nick, query = '') {
  const context = await browser.newContext({viewport: {width: 900, height: 640}});
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  // The gateway's Content-Security-Policy must let the page do everything it
  // does: a violation is logged to the console, and is a failure here.
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) errors.push(new Error(msg.text()));
  });
  // The page talks to its own origin only.
  const origin = new URL(stack.url).origin;
  const checkOrigin = (url) => {
    const parsed = new URL(url);
    if (parsed.protocol === 'data:') return;
    const httpOrigin = `${parsed.protocol.replace(/^ws/, 'http')}//${parsed.host}`;
    if (httpOrigin !== origin) errors.push(new Error(`request to another origin: ${url}`));
  };
  page.on('request', (req) => checkOrigin(req.url()));
  page.on('websocket', (ws) => checkOrigin(ws.url()));
  page.errors = errors;
  await page.goto(`${stack.url}/${query}`);
  await page.fill('#nick-input', nick);
  await page.click('#nick-btn');
  await page.waitForSelector('#status[data-state="connected"]');
  pages.push(page);
  return page;
}

async function joinRoom(page, room) {
  await page.fill('#room-input', room);
  await page.click('#room-join-btn');
  await page.waitForSelector(`.room[data-room="${room}"][data-joined="true"] button.leave:not([disabled])`);
  await page.click(`.room[data-room="${room}"] .room-name`);
  await page.waitForSelector(`.room.current[data-room="${room}"]`);
}

async function say(page, text) {
  await page.fill('#message-input', text);
  await page.click('#send-btn');
  // Delivered (the publish was acked): no longer pending.
  await page.waitForSelector(`#messages .message.mine:not(.pending):has(.text:text-is("${text}"))`);
}

function messages(page) {
  return page.$$eval('#messages .message', (items) => items.map((li) => `${li.dataset.from}: ${li.querySelector('.text').textContent}`));
}

async function waitMessage(page, from, text) {
  await page.waitForSelector(`#messages .message[data-from="${from}"]:has(.text:text-is("${text}"))`);
}

test('the gateway serves the chat page and the socket.io-client bundle', async () => {
  const index = await fetch(`${stack.url}/`);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /socket\.io\.min\.js/);
  const bundle = await fetch(`${stack.url}/socket.io/socket.io.min.js`);
  assert.equal(bundle.status, 200);
  await bundle.arrayBuffer();
  // Security headers: roomq's static files only (Socket.IO serves no pages;
  // the reference's test-only file server sets none).
  if (TARGET === 'roomq') {
    assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
    assert.match(index.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(bundle.headers.get('x-content-type-options'), 'nosniff');
  }
});

test('the page connects only to its own origin, whatever the query string names', async () => {
  const page = await openChat('mallory-target',
                              '?namespaces=/,//evil.example/x,https://evil.example/y,%5C%5Cevil.example,/ok' +
                                  '&ns=//evil.example/x');
  const options = await page.$$eval('#ns-select option', (items) => items.map((o) => o.value));
  assert.deepEqual(options, ['/', '/ok']);
  assert.equal(await page.inputValue('#ns-select'), '/');
  assert.deepEqual(page.errors, []);
});

test('a message reaches the room once, never another room, once in the sender\'s list', async () => {
  const [alice, bob, carol] = await Promise.all([openChat('alice'), openChat('bob'), openChat('carol')]);
  await joinRoom(alice, 'room-a');
  await joinRoom(bob, 'room-a');
  await joinRoom(carol, 'room-b');

  await say(alice, 'hello from alice');
  await waitMessage(bob, 'alice', 'hello from alice');
  await say(bob, 'hi alice');
  await waitMessage(alice, 'bob', 'hi alice');

  // Causal marker for carol: alice joins room-b and writes there after her
  // first message; had the first reached carol, it would be listed before.
  await joinRoom(alice, 'room-b');
  await say(alice, 'marker for room-b');
  await waitMessage(carol, 'alice', 'marker for room-b');

  assert.deepEqual(await messages(carol), ['alice: marker for room-b']);
  await alice.click('.room[data-room="room-a"] .room-name');
  assert.deepEqual(await messages(alice), ['alice: hello from alice', 'bob: hi alice']);
  assert.deepEqual(await messages(bob), ['alice: hello from alice', 'bob: hi alice']);

  fs.mkdirSync(ARTIFACT_DIR, {recursive: true});
  await bob.screenshot({path: path.join(ARTIFACT_DIR, 'chat.png')});
  for (const page of [alice, bob, carol]) assert.deepEqual(page.errors, []);
});

test('"X is typing" shows in the same room only, and clears on the message', async () => {
  const [dave, erin, frank] = await Promise.all([openChat('dave'), openChat('erin'), openChat('frank')]);
  await joinRoom(dave, 'typing-room');
  await joinRoom(erin, 'typing-room');
  await joinRoom(frank, 'quiet-room');

  await dave.type('#message-input', 'typing away', {delay: 20});
  await erin.waitForFunction(() => document.getElementById('typing').textContent.includes('dave is typing'));
  assert.equal(await dave.textContent('#typing'), '');
  await dave.click('#send-btn');
  await waitMessage(erin, 'dave', 'typing away');
  await erin.waitForFunction(() => document.getElementById('typing').textContent === '');
  assert.equal(await frank.textContent('#typing'), '');
  assert.deepEqual(await messages(frank), []);
});

test('join errors are shown; the namespace switch connects to another namespace', async () => {
  const gina = await openChat('gina');
  await gina.selectOption('#ns-select', '/chat');
  await gina.waitForSelector('#status[data-state="connected"]');
  await gina.fill('#room-input', 'secret');
  await gina.click('#room-join-btn');
  await gina.waitForSelector('#error:not([hidden])');
  assert.match(await gina.textContent('#error'), /cannot join secret/);
  assert.equal(await gina.getAttribute('.room[data-room="secret"]', 'data-joined'), 'false');
  await joinRoom(gina, 'public-1');
  assert.equal(await gina.isHidden('#error'), true);

  // Rooms are per namespace: a `/` page in "public-1" does not see /chat's.
  const hank = await openChat('hank', '?ns=/chat');
  const ivan = await openChat('ivan');
  await joinRoom(hank, 'public-1');
  await joinRoom(ivan, 'public-1');
  await say(gina, 'in /chat');
  await waitMessage(hank, 'gina', 'in /chat');
  await say(ivan, 'in /');
  assert.deepEqual(await messages(hank), ['gina: in /chat']);

  // An unknown namespace shows the server's refusal.
  const judy = await openChat('judy', '?namespaces=/,/nope');
  await judy.selectOption('#ns-select', '/nope');
  await judy.waitForSelector('#status[data-state="error"]');
  assert.match(await judy.textContent('#error'), /Invalid namespace/);
});

test('pages reconnect by themselves after the gateway restarts, and chat again', async () => {
  const [kim, lee] = await Promise.all([openChat('kim'), openChat('lee')]);
  await joinRoom(kim, 'restart-room');
  await joinRoom(lee, 'restart-room');
  for (const page of [kim, lee]) {
    await page.evaluate(() => {
      window.statusHistory = [];
      new MutationObserver(() => window.statusHistory.push(document.getElementById('status').dataset.state))
          .observe(document.getElementById('status'), {attributes: true, attributeFilter: ['data-state']});
    });
  }

  await stack.restartGateway(0);

  for (const page of [kim, lee]) {
    await page.waitForFunction(() => window.statusHistory.includes('reconnecting') &&
                                   window.statusHistory[window.statusHistory.length - 1] === 'connected',
                               null, {timeout: 20000});
    // Rooms are joined again after the reconnection.
    await page.waitForSelector('.room[data-room="restart-room"][data-joined="true"] button.leave:not([disabled])');
  }
  await say(kim, 'after the restart');
  await waitMessage(lee, 'kim', 'after the restart');
  assert.deepEqual(await messages(lee), ['kim: after the restart']);
});
