'use strict';
// The docker compose stack (deploy/docker-compose.yml), for real: builds and
// starts it with the podman recipe in <repo>/../shared/tools/compose-up
// (run.sh), then drives stock socket.io-client sockets through the load
// balancer at 127.0.0.1:8080 and always brings the stack down (down.sh).
//
// Checks: the chat page and the client bundle are served; clients with the
// default transports (polling, then the WebSocket upgrade) land on both
// gateways (the sid prefix names the gateway: gw1-/gw2-) and complete the
// upgrade, and polling-only clients keep long-polling, which both need every
// request of a session to reach the gateway owning it; a chat message
// published to a room reaches every member on both gateways exactly once and
// never the sender; the example native service answers through the stack;
// CURVE is on (a process on the backend network without a listed key gets
// nothing through, a node with its key does); /metrics is not served
// through the balancer; Prometheus scrapes every broker and gateway.
//
// Needs root and podman (run.sh installs podman from Debian when missing).
// COMPOSE_UP_DIR overrides the recipe's location; ROOMQ_DEPLOY_KEEP=1 leaves
// the stack running afterwards; ROOMQ_BUILD_JOBS (default 2) sets the compile
// jobs of the image build.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const {ack, closeAll, connect} = require('../e2e/harness/client');

const REPO = path.resolve(__dirname, '..', '..');
const RECIPE = process.env.COMPOSE_UP_DIR || path.resolve(REPO, '..', 'shared', 'tools', 'compose-up');
const COMPOSE = 'deploy/docker-compose.yml';
const PROJECT = 'roomq';
const LB = 'http://127.0.0.1:8080';
const READY_TIMEOUT_MS = 120000;
const CLIENTS = 8;

let up = false;

function log(message) {
  process.stderr.write(`[deploy ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function recipe(script) {
  const file = path.join(RECIPE, script);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: the compose-up recipe (shared/tools/compose-up next to the ` +
                    'repository, or COMPOSE_UP_DIR) is needed to run the docker compose stack here');
  }
  return file;
}

function runRecipe(script) {
  const started = Date.now();
  // The image build compiles roomq: 2 jobs unless ROOMQ_BUILD_JOBS says otherwise.
  // Docker image format: podman's default (OCI) drops HEALTHCHECK.
  const env = {...process.env, ROOMQ_BUILD_JOBS: process.env.ROOMQ_BUILD_JOBS || '2',
               BUILDAH_FORMAT: 'docker', ROOMQ_EXTRA_CA_PEM: extraCaPem()};
  const result = spawnSync('bash', [recipe(script), COMPOSE, REPO, PROJECT], {stdio: 'inherit', env});
  log(`${script} exited ${result.status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

// The CAs this machine added to its trust store (Debian's place for local
// CAs), for the image build's npm when TLS to the registry is intercepted.
// ROOMQ_EXTRA_CA_PEM, when set, wins.
function extraCaPem() {
  if (process.env.ROOMQ_EXTRA_CA_PEM !== undefined) return process.env.ROOMQ_EXTRA_CA_PEM;
  const dir = '/usr/local/share/ca-certificates';
  if (!fs.existsSync(dir)) return '';
  return fs.readdirSync(dir).filter((f) => f.endsWith('.crt')).sort()
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim()).join('\n');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls until `probe` resolves truthy (probe errors count as "not yet").
async function eventually(what, probe, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

// A socket through the load balancer; resolves once it is connected and,
// with the default transports, has finished upgrading to WebSocket.
async function client(options = {}) {
  const socket = await connect(LB, options.nsp || '/', options);
  const engine = socket.io.engine;
  if (!options.transports) {
    await eventually(`the WebSocket upgrade of ${engine.id}`,
                     async () => engine.transport.name === 'websocket', 10000);
  }
  socket.gateway = engine.id.slice(0, 4);
  return socket;
}

before(async () => {
  if (process.getuid && process.getuid() !== 0) {
    throw new Error('the compose stack test needs root (rootful podman is what works here)');
  }
  const result = runRecipe('run.sh');
  if (result.status !== 0) throw new Error(`run.sh failed (exit ${result.status}); see its log above`);
  up = true;
  // Both gateways answer through the balancer, and the echo service has
  // subscribed (it greets every connection on / with `auth`).
  await eventually('/healthz through the load balancer', async () => (await fetch(`${LB}/healthz`)).ok);
  await eventually('the echo service', async () => {
    const socket = await connect(LB, '/', {transports: ['websocket']});
    try {
      await socket.rec.waitFor('auth', () => true, 2000);
      return true;
    } finally {
      socket.close();
    }
  });
});

after(() => {
  closeAll();
  if (!up) return;
  if (process.env.ROOMQ_DEPLOY_KEEP === '1') {
    log(`ROOMQ_DEPLOY_KEEP=1: the stack stays up; stop it with ${path.join(RECIPE, 'down.sh')} ${COMPOSE} ${REPO} ${PROJECT}`);
    return;
  }
  const result = runRecipe('down.sh');
  assert.equal(result.status, 0, 'down.sh failed');
});

// `podman healthcheck run` on one container of the stack (podman runs
// healthchecks only through systemd, which is not running here).
function healthcheck(service) {
  const name = `${PROJECT}_${service}_1`;
  const result = spawnSync('bash', ['-c', `. "$1/env.sh" && podman healthcheck run "$2"`, 'hc', RECIPE, name],
                           {encoding: 'utf8'});
  return {ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim()};
}

test('every container passes its image HEALTHCHECK', async () => {
  for (const service of ['broker-a', 'broker-b', 'gateway1', 'gateway2', 'echo', 'prometheus', 'lb']) {
    await eventually(`the healthcheck of ${service}`, async () => {
      const {ok, output} = healthcheck(service);
      if (!ok) throw new Error(output || 'unhealthy');
      return true;
    }, 30000);
  }
});

test('the balancer serves the chat and the socket.io-client bundle from the gateways', async () => {
  const page = await fetch(`${LB}/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<title>roomq chat<\/title>/);
  assert.match(html, /\/socket\.io\/socket\.io\.min\.js/);
  const bundle = await fetch(`${LB}/socket.io/socket.io.min.js`);
  assert.equal(bundle.status, 200);
  assert.ok((await bundle.text()).length > 10000);
});

test('/metrics is not served through the balancer, only on each gateway\'s backend metrics port', async () => {
  assert.equal((await fetch(`${LB}/metrics`)).status, 404);
  for (const service of ['gateway1', 'gateway2']) {
    const name = `${PROJECT}_${service}_1`;
    const scrape = `exec 3<>/dev/tcp/127.0.0.1/9464 && printf 'GET /metrics HTTP/1.1\\r\\nHost: m\\r\\n\\r\\n' >&3 && cat <&3`;
    const result = spawnSync('bash', ['-c', `. "$1/env.sh" && podman exec "$2" bash -c "$3"`, 'scrape', RECIPE, name, scrape],
                             {encoding: 'utf8'});
    assert.equal(result.status, 0, `${service}: ${result.stderr}`);
    assert.match(result.stdout, /^HTTP\/1\.1 200/);
    assert.match(result.stdout, /^roomq_gateway_/m);
  }
});

test('Prometheus scrapes both brokers and both gateways (deploy/prometheus/prometheus.yml)', async () => {
  // Its first scrape of each target comes within one scrape interval (15 s).
  const targets = await eventually('every target up in Prometheus', async () => {
    const {status, out} = podman(['exec', `${PROJECT}_prometheus_1`, 'promtool', 'query', 'instant',
                                  'http://127.0.0.1:9090', 'up']);
    if (status !== 0) throw new Error(out);
    const up = [...out.matchAll(/^up\{instance="([^"]+)", job="([^"]+)"\} => (\d+)/gm)]
                   .map((m) => `${m[2]} ${m[1]} ${m[3]}`).sort();
    if (up.length < 4 || !up.every((t) => t.endsWith(' 1'))) throw new Error(`up: ${up.join(', ')}`);
    return up;
  }, 60000);
  assert.deepEqual(targets, ['roomq-broker broker-a:9090 1', 'roomq-broker broker-b:9090 1',
                             'roomq-gateway gateway1:9464 1', 'roomq-gateway gateway2:9464 1']);
});

// Runs `podman ARGS...` with the recipe's environment; {status, out}.
function podman(args) {
  const result = spawnSync('bash', ['-c', '. "$1/env.sh" && shift && podman "$@"', 'podman', RECIPE, ...args],
                           {encoding: 'utf8'});
  return {status: result.status, out: `${result.stdout}${result.stderr}`};
}

test('CURVE: a process on the backend network without a listed key gets nothing through', async () => {
  const member = await client({nsp: '/chat'});
  assert.deepEqual(await ack(member, 'join', 'curve-check'), {ok: true});
  const publish = () => ['pub', '--broker-pub', 'tcp://broker-a:5555,tcp://broker-b:5555',
                         '--broker-sub', 'tcp://broker-a:5556,tcp://broker-b:5556',
                             '--ns', '/chat', '--room', 'curve-check', '--event', 'chat message',
                             '--timeout-ms', '3000'];
  const backend = podman(['network', 'ls', '--format', '{{.Name}}']).out.split('\n')
                      .find((n) => n.trim() === `${PROJECT}_backend`);
  assert.ok(backend, 'the stack\'s backend network');
  // A stranger: the same image, on the broker's network, without keys.
  const keyless = podman(['run', '--rm', '--network', backend, '--entrypoint', '/opt/roomq/bin/roomq',
                          'localhost/roomq/echo:latest', ...publish(), '"keyless"']);
  assert.equal(keyless.status, 1, `the keyless publish was not refused:\n${keyless.out}`);
  // A node with its listed key (the echo service's own) gets through.
  const keyed = podman(['exec', `${PROJECT}_echo_1`, '/opt/roomq/bin/roomq', ...publish(),
                        '--curve-server-key', '/keys/public/broker.pub', '--curve-secret-key', '/keys/own/echo.key',
                        '"keyed"']);
  assert.equal(keyed.status, 0, keyed.out);
  await member.rec.waitFor('chat message', (text) => text === 'keyed');
  // The keyless one was published (and given up) first: it would be here.
  assert.deepEqual(member.rec.received('chat message').map((e) => e.args[0]), ['keyed']);
  const brokerLog = podman(['logs', `${PROJECT}_broker-a_1`]).out;
  assert.match(brokerLog, /curve on clients=3 /);
  assert.match(brokerLog, /curve (refused reason=mechanism|handshake failed)/);
  member.close();
});

test('a broker SIGKILL: routing goes on, and the pair is whole again once the killed broker is back', async () => {
  const member = await client({nsp: '/chat'});
  assert.deepEqual(await ack(member, 'join', 'durable-check'), {ok: true});
  const other = await client({nsp: '/chat'});
  assert.deepEqual(await ack(other, 'join', 'durable-check'), {ok: true});
  assert.deepEqual(await ack(other, 'publish', 'durable-check', 'chat message', 'before'), {ok: true});
  await member.rec.waitFor('chat message', (text) => text === 'before');
  const broker = `${PROJECT}_broker-a_1`;
  const backup = `${PROJECT}_broker-b_1`;
  const killedAt = new Date(Date.now() - 1000).toISOString();
  assert.equal(podman(['kill', '--signal', 'KILL', broker]).status, 0);
  // Routing is back: through broker-b once the nodes moved to it, or through
  // broker-a if its restart policy brought it back first (it is active
  // again then). Neither client saw its connection drop.
  await eventually('a message through the pair after the SIGKILL', async () => {
    assert.deepEqual(await ack(other, 'publish', 'durable-check', 'chat message', 'after'), {ok: true});
    await member.rec.waitFor('chat message', (text) => text === 'after', 2000);
    return true;
  }, 60000);
  assert.ok(member.connected && other.connected);
  podman(['start', broker]);  // the restart policy may have started it already
  // The pair is whole again: the passive one (whichever) holds the active
  // one's snapshot, taken after the kill.
  const since = (name) => podman(['logs', '--since', killedAt, name]).out;
  const resynced = await eventually('the passive broker to hold the active one\'s snapshot again', () => {
    for (const name of [broker, backup]) {
      const m = /pair: in sync with the active broker: session \w+, epoch=(\d+), history (\d+) entries/.exec(since(name));
      if (m) return {name, epoch: m[1], entries: Number(m[2])};
    }
    return null;
  }, 60000);
  log(`after the SIGKILL ${resynced.name} is passive and in sync: epoch ${resynced.epoch}, ${resynced.entries} history entries`);
  assert.ok(resynced.entries >= 2, 'the history holds "before" and "after"');
  const takeover = /pair: serving with epoch (\d+) \((kept|new)/.exec(since(backup));
  if (takeover) {
    log(`broker-b took over: epoch ${takeover[1]} (${takeover[2]})`);
    assert.equal(takeover[2], 'kept', '--pair-ack both keeps the epoch');
  }
  member.close();
  other.close();
  // The example service is back too: its Link says Hello to the new broker
  // and subscribes again by itself. (A later test relies on it.)
  const echoSince = Date.now();
  try {
    await eventually('the echo service to answer a new connection again', async () => {
      const probe = await client({auth: {probe: 1}});
      try {
        assert.deepEqual(await probe.rec.waitFor('auth', () => true, 2000), [{probe: 1}]);
        return true;
      } finally {
        probe.close();
      }
    }, 60000);
  } catch (err) {
    log(`echo log:\n${podman(['logs', '--since', '5m', `${PROJECT}_echo_1`]).out.slice(-6000)}`);
    log(`broker-a log:\n${podman(['logs', '--since', '5m', broker]).out.slice(-6000)}`);
    log(`broker-b log:\n${podman(['logs', '--since', '5m', backup]).out.slice(-6000)}`);
    throw err;
  }
  log(`the echo service answered ${Date.now() - echoSince} ms after routing was back`);
});

test('clients with default transports land on both gateways and upgrade to WebSocket', async () => {
  const sockets = [];
  for (let i = 0; i < CLIENTS; i++) sockets.push(await client());
  const gateways = sockets.map((s) => s.gateway);
  log(`gateways of ${CLIENTS} clients: ${gateways.join(' ')}`);
  for (const g of gateways) assert.ok(g === 'gw1-' || g === 'gw2-', `unexpected sid prefix ${g}`);
  assert.ok(gateways.includes('gw1-') && gateways.includes('gw2-'), 'new handshakes are not balanced');
  for (const s of sockets) {
    assert.equal(s.io.engine.transport.name, 'websocket');
    assert.ok(s.connected);
  }
});

test('a chat message crosses gateways once per member, never to the sender', async () => {
  // Members on both gateways: upgraded ones and polling-only ones (their
  // long-polls and POSTs must all reach the owning gateway).
  const members = [];
  for (let i = 0; i < CLIENTS; i++) {
    members.push(await client(i % 4 < 2 ? {transports: ['polling']} : {}));
  }
  const outsider = await client();
  const on = (prefix) => members.filter((s) => s.gateway === prefix);
  assert.ok(on('gw1-').length > 0 && on('gw2-').length > 0,
            `members on one gateway only: ${members.map((s) => s.gateway).join(' ')}`);
  for (const s of members) assert.deepEqual(await ack(s, 'join', 'lobby'), {ok: true});
  assert.deepEqual(await ack(outsider, 'join', 'elsewhere'), {ok: true});

  const sender = on('gw1-')[0];
  const relay = on('gw2-')[0];
  const message = {room: 'lobby', from: 'ann', text: 'hello from gateway 1'};
  assert.deepEqual(await ack(sender, 'publish', 'lobby', 'chat message', message), {ok: true});
  for (const s of members) {
    if (s !== sender) assert.deepEqual(await s.rec.waitFor('chat message'), [message]);
  }
  // A marker from the other gateway: once it has arrived, any duplicate of
  // the first message (or a copy to its sender) would have arrived too.
  const marker = {room: 'lobby', from: 'bob', text: 'marker from gateway 2'};
  assert.deepEqual(await ack(relay, 'publish', 'lobby', 'chat message', marker), {ok: true});
  for (const s of members) {
    if (s !== relay) await s.rec.waitFor('chat message', (m) => m.text === marker.text);
  }
  const texts = (s) => s.rec.received('chat message').map((e) => e.args[0].text);
  assert.deepEqual(texts(sender), [marker.text]);
  assert.deepEqual(texts(relay), [message.text]);
  for (const s of members) {
    if (s !== sender && s !== relay) assert.deepEqual(texts(s), [message.text, marker.text]);
  }
  assert.deepEqual(texts(outsider), []);
});

test('the example native service answers through the stack on both gateways', async () => {
  const seen = new Set();
  for (let i = 0; i < 4; i++) {
    const socket = await client({auth: {n: i}});
    assert.deepEqual(await socket.rec.waitFor('auth'), [{n: i}]);
    socket.emit('message', 'ping', i);
    assert.deepEqual(await socket.rec.waitFor('message-back'), ['ping', i]);
    seen.add(socket.gateway);
  }
  assert.equal(seen.size, 2);
});
