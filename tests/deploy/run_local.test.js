'use strict';
// deploy/run-local.sh, the script itself, over this build's binaries
// (ROOMQ_SKIP_BUILD=1, ROOMQ_BIN_DIR): its gateway has the namespace policy
// the compose stack mounts (clients/examples/echo/gateway.yaml) and the
// example service answers through it as README.md says: `auth` on connect
// and `message` -> `message-back` on /, the middleware of /admin, the
// /tenant-<name> family. The broker gets free loopback ports (--broker-pub,
// --broker-sub) and the gateway 127.0.0.1:0, so the test runs beside others.
//
// Readiness is read from the stack's log lines: the gateway's address and
// its broker link, and the service's "ready" once the broker has its
// subscriptions.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {Child} = require('../e2e/harness/process');
const {closeAll, connect, connectError} = require('../e2e/harness/client');
const {freePort} = require('../e2e/harness/stack');

const REPO = path.resolve(__dirname, '..', '..');
const BIN_DIR = process.env.ROOMQ_BIN_DIR || path.join(REPO, 'build', 'bin');
const CONFIG = 'clients/examples/echo/gateway.yaml';
const START_TIMEOUT_MS = 15000;

let stack;
let url;

before(async () => {
  const [pub, sub] = await Promise.all([freePort(), freePort()]);
  stack = new Child('run-local', path.join(REPO, 'deploy', 'run-local.sh'),
                    ['--listen', '127.0.0.1:0', '--broker-pub', `tcp://127.0.0.1:${pub}`,
                     '--broker-sub', `tcp://127.0.0.1:${sub}`],
                    {env: {ROOMQ_SKIP_BUILD: '1', ROOMQ_BIN_DIR: BIN_DIR}, group: true});
  const wait = (regex) => stack.waitForLine(regex, {timeoutMs: START_TIMEOUT_MS});
  [, url] = await wait(/roomq-gateway listening on (http:\/\/\S+:\d+)/);
  await wait(/bridge \S+: broker connected/);
  await wait(/roomq-echo ready/);
});

after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

test('the compose stack mounts the gateway config run-local.sh passes', () => {
  const compose = fs.readFileSync(path.join(REPO, 'deploy', 'docker-compose.yml'), 'utf8');
  const mounts = [...compose.matchAll(/^\s*- \.\.\/(\S+):\/etc\/roomq\/gateway\.yaml:ro$/gm)].map((m) => m[1]);
  assert.deepEqual(mounts, [CONFIG, CONFIG], 'gateway1 and gateway2 mount it');
  const script = fs.readFileSync(path.join(REPO, 'deploy', 'run-local.sh'), 'utf8');
  assert.match(script, new RegExp(`roomq-gateway" .*--config ${CONFIG.replace(/\./g, '\\.')} `));
});

test('on /, the echo service greets with auth and answers message with message-back', async () => {
  const socket = await connect(url, '/', {auth: {name: 'ann'}});
  assert.deepEqual(await socket.rec.waitFor('auth'), [{name: 'ann'}]);
  socket.emit('message', 'ping', 1);
  assert.deepEqual(await socket.rec.waitFor('message-back'), ['ping', 1]);
});

test('/admin admits only what the service middleware admits', async () => {
  const admin = await connect(url, '/admin', {auth: {role: 'admin', user: 'ann'}});
  assert.deepEqual(await admin.rec.waitFor('hello'), [{role: 'admin', user: 'ann'}]);
  const refused = await connectError(url, '/admin', {auth: {role: 'guest'}});
  assert.equal(refused.message, 'not authorized');
});

test('each /tenant-<name> is a namespace of its own, greeted by the service', async () => {
  const socket = await connect(url, '/tenant-acme');
  assert.deepEqual(await socket.rec.waitFor('hello'), [socket.id]);
});
