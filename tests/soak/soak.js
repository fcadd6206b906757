#!/usr/bin/env node
'use strict';
// The soak test: connect/disconnect churn plus steady traffic
// against a real roomq-broker + roomq-gateway for a bounded time, then a
// leak verdict. See README.md here. Exit 0 = no leak, 1 = leak or failure,
// 2 = usage.
//
// What runs: the broker (with --metrics-bind) and one gateway (short
// heartbeats, so abruptly dropped clients are reaped in seconds) as
// children; in this process, with the stock socket.io-client:
//   - churn: a pool of --clients sockets; every 50 ms some leave (most with
//     disconnect(), some by destroying the TCP connection under them) and as
//     many new ones connect (websocket or polling) and join 1-3 of 100
//     rooms, so rooms and broker topics come and go all the time;
//   - steady traffic: 4 publishers sending --rate msg/s in total to the
//     churn rooms and to one "steady" room that 10 long-lived receivers
//     count (none may be lost).
// Measured at the start (before any client), after a warm-up (--warmup-s,
// allocator pools filled) and at the end (every client gone, gauges
// settled): open fds of both processes (/proc/<pid>/fd), RSS, the broker's
// subscribers/topics (its /metrics), the gateway's sessions, sockets, rooms
// and broker subscriptions (its /metrics).
// Verdict: a leak is any fd above the start + 2 in either process, any
// gauge not back to its start value, or gateway RSS at the end above the
// warm-up figure by more than max(16 MiB, 25%) (broker: max(8 MiB, 25%)).

const {spawn} = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');

const REPO = path.resolve(__dirname, '..', '..');
const {io} = require(path.join(REPO, 'tests', 'e2e', 'node_modules', 'socket.io-client'));

function parseArgs(argv) {
  const args = {durationS: 60, warmupS: 10, clients: 300, churnPerS: 100, rate: 200,
                binDir: process.env.ROOMQ_BIN_DIR || path.join(REPO, 'build', 'bin')};
  const names = {'--duration-s': 'durationS', '--warmup-s': 'warmupS', '--clients': 'clients',
                 '--churn-per-s': 'churnPerS', '--rate': 'rate', '--bin-dir': 'binDir'};
  for (let i = 2; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--help' || flag === '-h') {
      console.log('Usage: soak.js [--duration-s 60] [--warmup-s 10] [--clients 300] [--churn-per-s 100] ' +
                  '[--rate 200] [--bin-dir build/bin]');
      process.exit(0);
    }
    const key = names[flag];
    const value = inline !== undefined ? inline : argv[++i];
    if (!key || value === undefined) {
      console.error(`soak.js: bad argument ${argv[i]} (see --help)`);
      process.exit(2);
    }
    args[key] = key === 'binDir' ? value : Number(value);
    if (key !== 'binDir' && !(args[key] >= 0)) {
      console.error(`soak.js: ${flag} must be a number >= 0`);
      process.exit(2);
    }
  }
  return args;
}

const children = [];
process.on('exit', () => children.forEach((c) => c.proc.exitCode === null && c.proc.kill('SIGKILL')));

function start(name, bin, args) {
  const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
  const child = {name, proc, lines: [], waiters: []};
  for (const stream of [proc.stdout, proc.stderr]) {
    readline.createInterface({input: stream}).on('line', (line) => {
      child.lines.push(line);
      if (child.lines.length > 200) child.lines.shift();
      if (process.env.SOAK_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
      child.waiters = child.waiters.filter((w) => !w(line));
    });
  }
  child.waitFor = (regex, timeoutMs = 10000) => new Promise((resolve, reject) => {
    for (const line of child.lines) {
      const m = regex.exec(line);
      if (m) return resolve(m);
    }
    const timer = setTimeout(() => reject(new Error(`${name}: no ${regex} in ${timeoutMs} ms\n` +
                                                    child.lines.slice(-20).join('\n'))), timeoutMs);
    child.waiters.push((line) => {
      const m = regex.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
      return !!m;
    });
  });
  children.push(child);
  return child;
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function sum(text, name) {
  // Sums every sample of `name` (any labels).
  let total = 0;
  const re = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm');
  for (let m; (m = re.exec(text));) total += Number(m[2]);
  return total;
}

function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseArgs(process.argv);
  for (const bin of ['roomq-broker', 'roomq-gateway']) {
    if (!fs.existsSync(path.join(args.binDir, bin))) {
      console.error(`soak.js: ${path.join(args.binDir, bin)} not found (build it or pass --bin-dir)`);
      process.exit(2);
    }
  }
  const broker = start('broker', path.join(args.binDir, 'roomq-broker'),
                       ['--pub-bind', 'tcp://127.0.0.1:*', '--sub-bind', 'tcp://127.0.0.1:*',
                        '--metrics-bind', '127.0.0.1:0']);
  const [, pub, sub] = await broker.waitFor(/roomq-broker listening pub=(\S+) sub=(\S+)/);
  const [, brokerMetricsUrl] = await broker.waitFor(/metrics on (http:\/\/\S+\/metrics)/);
  const gateway = start('gateway', path.join(args.binDir, 'roomq-gateway'),
                        ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--broker-pub', pub, '--broker-sub', sub, '--threads', '2',
                         '--ping-interval-ms', '1000', '--ping-timeout-ms', '1000',
                         // Every client is 127.0.0.1 and stands for another user.
                         '--handshake-rate', '0', '--max-sessions-per-address', '0',
                         '--max-rooms-per-address', '0']);
  const [, url] = await gateway.waitFor(/listening on (http:\/\/\S+:\d+)/);
  const [, gatewayMetricsUrl] = await gateway.waitFor(/metrics on (http:\/\/\S+\/metrics)/);

  async function snapshot() {
    const [b, g] = await Promise.all([get(brokerMetricsUrl), get(gatewayMetricsUrl)]);
    return {
      broker_fds: fdCount(broker.proc.pid),
      broker_rss: rssBytes(broker.proc.pid),
      broker_subscribers: sum(b, 'roomq_broker_subscribers'),
      broker_topics: sum(b, 'roomq_broker_topics'),
      gateway_fds: fdCount(gateway.proc.pid),
      gateway_rss: rssBytes(gateway.proc.pid),
      gateway_engine_sessions: sum(g, 'roomq_gateway_engine_sessions'),
      gateway_sockets: sum(g, 'roomq_gateway_sockets'),
      gateway_rooms: sum(g, 'roomq_gateway_rooms'),
      gateway_broker_subscriptions: sum(g, 'roomq_gateway_broker_subscriptions'),
      routed: sum(b, 'roomq_broker_routed_total'),
      delivered: sum(b, 'roomq_broker_delivered_total'),
    };
  }
  // The start: the gateway has said Hello to the broker (one subscriber).
  let startSnap = await snapshot();
  for (const deadline = Date.now() + 10000; startSnap.broker_subscribers < 1 && Date.now() < deadline;) {
    await sleep(100);
    startSnap = await snapshot();
  }

  const stats = {connects: 0, connectErrors: 0, graceful: 0, abrupt: 0, published: 0, steadyPublished: 0,
                 churnDelivered: 0};
  const room = () => `churn-${Math.floor(Math.random() * 100)}`;
  const opts = (transports) => ({forceNew: true, reconnection: false, transports, timeout: 10000});

  async function connected(socket) {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  // Long-lived: publishers and the steady room's receivers.
  const publishers = await Promise.all([...Array(4)].map(() => connected(io(url, opts(['websocket'])))));
  const steady = await Promise.all([...Array(10)].map(() => connected(io(url, opts(['websocket'])))));
  const steadyCounts = steady.map(() => 0);
  await Promise.all(steady.map((s, i) => {
    s.on('steady', () => steadyCounts[i]++);
    return s.timeout(10000).emitWithAck('join', 'steady');
  }));

  // The churn pool.
  const pool = new Set();
  async function openOne() {
    const transports = Math.random() < 0.8 ? ['websocket'] : ['polling'];
    const socket = io(url, opts(transports));
    socket.on('m', () => stats.churnDelivered++);
    socket.on('connect_error', () => stats.connectErrors++);
    pool.add(socket);
    try {
      await connected(socket);
      stats.connects++;
      const joins = 1 + Math.floor(Math.random() * 3);
      for (let j = 0; j < joins && socket.connected; j++) await socket.timeout(10000).emitWithAck('join', room());
    } catch {
      // closed by the churn before it finished: fine
    }
  }
  function closeOne(socket) {
    pool.delete(socket);
    const transport = socket.io.engine && socket.io.engine.transport;
    if (transport && transport.name === 'websocket' && transport.ws && transport.ws._socket && Math.random() < 0.3) {
      transport.ws._socket.destroy();  // the network goes away: no close frame
      socket.io.engine.close();
      stats.abrupt++;
    } else {
      socket.disconnect();
      stats.graceful++;
    }
  }
  for (let i = 0; i < args.clients; i++) openOne();

  let running = true;
  const churnPerTick = Math.max(1, Math.round(args.churnPerS / 20));
  const churn = (async () => {
    while (running) {
      await sleep(50);
      const victims = [...pool].sort(() => Math.random() - 0.5).slice(0, churnPerTick);
      victims.forEach(closeOne);
      for (let i = 0; i < victims.length; i++) openOne();
    }
  })();
  const traffic = (async () => {
    const perTick = args.rate / 20;
    let owed = 0;
    while (running) {
      await sleep(50);
      for (owed += perTick; owed >= 1; owed--) {
        const p = publishers[stats.published % publishers.length];
        if (stats.published % 5 === 0) {
          p.emit('publish', 'steady', 'steady', stats.steadyPublished++);
        } else {
          p.emit('publish', room(), 'm', stats.published);
        }
        stats.published++;
      }
    }
  })();

  const t0 = Date.now();
  await sleep(args.warmupS * 1000);
  const warm = await snapshot();
  const peak = {gateway_fds: warm.gateway_fds, gateway_rss: warm.gateway_rss, pool: pool.size};
  while (Date.now() - t0 < args.durationS * 1000) {
    await sleep(1000);
    const s = await snapshot();
    peak.gateway_fds = Math.max(peak.gateway_fds, s.gateway_fds);
    peak.gateway_rss = Math.max(peak.gateway_rss, s.gateway_rss);
    if (process.env.SOAK_VERBOSE) console.error(JSON.stringify(s));
  }
  running = false;
  await Promise.all([churn, traffic]);

  // Every steady message published must reach every steady receiver: wait
  // for a last marker after the others.
  const marker = stats.steadyPublished++;
  publishers[0].emit('publish', 'steady', 'steady', marker);
  const steadyDeadline = Date.now() + 10000;
  while (steadyCounts.some((c) => c < stats.steadyPublished) && Date.now() < steadyDeadline) await sleep(50);

  for (const s of [...pool]) closeOne(s);
  for (const s of [...publishers, ...steady]) s.disconnect();
  // Settle: the gateway reaps dropped clients within its heartbeat (2 s).
  let end = await snapshot();
  const settleDeadline = Date.now() + 15000;
  const settled = (s) => s.gateway_engine_sessions === startSnap.gateway_engine_sessions &&
      s.gateway_sockets === startSnap.gateway_sockets && s.gateway_rooms === startSnap.gateway_rooms &&
      s.gateway_broker_subscriptions === startSnap.gateway_broker_subscriptions &&
      s.broker_topics === startSnap.broker_topics && s.gateway_fds <= startSnap.gateway_fds + 2;
  while (!settled(end) && Date.now() < settleDeadline) {
    await sleep(200);
    end = await snapshot();
  }
  await sleep(500);  // the broker's snapshot lags by up to 100 ms
  end = await snapshot();

  const mib = (b) => (b / 1048576).toFixed(1);
  const rows = [
    ['broker fds', startSnap.broker_fds, warm.broker_fds, end.broker_fds],
    ['broker RSS MiB', mib(startSnap.broker_rss), mib(warm.broker_rss), mib(end.broker_rss)],
    ['broker subscribers', startSnap.broker_subscribers, warm.broker_subscribers, end.broker_subscribers],
    ['broker topics', startSnap.broker_topics, warm.broker_topics, end.broker_topics],
    ['gateway fds', startSnap.gateway_fds, warm.gateway_fds, end.gateway_fds],
    ['gateway RSS MiB', mib(startSnap.gateway_rss), mib(warm.gateway_rss), mib(end.gateway_rss)],
    ['gateway engine sessions', startSnap.gateway_engine_sessions, warm.gateway_engine_sessions,
     end.gateway_engine_sessions],
    ['gateway sockets', startSnap.gateway_sockets, warm.gateway_sockets, end.gateway_sockets],
    ['gateway rooms', startSnap.gateway_rooms, warm.gateway_rooms, end.gateway_rooms],
    ['gateway broker subscriptions', startSnap.gateway_broker_subscriptions, warm.gateway_broker_subscriptions,
     end.gateway_broker_subscriptions],
  ];
  console.log(`soak: ${args.durationS} s, pool ${args.clients} clients, ~${args.churnPerS} connects/s ` +
              `+ as many disconnects, ${args.rate} msg/s`);
  console.log(`${'figure'.padEnd(30)} ${'start'.padStart(10)} ${'warm'.padStart(10)} ${'end'.padStart(10)}`);
  for (const [name, a, b, c] of rows) {
    console.log(`${name.padEnd(30)} ${String(a).padStart(10)} ${String(b).padStart(10)} ${String(c).padStart(10)}`);
  }
  console.log(`peak during churn: gateway fds ${peak.gateway_fds}, gateway RSS ${mib(peak.gateway_rss)} MiB`);
  console.log(`clients: ${stats.connects} connected, ${stats.graceful} disconnect(), ${stats.abrupt} dropped ` +
              `without a close, ${stats.connectErrors} connect errors`);
  console.log(`traffic: ${stats.published + 1} published (${stats.steadyPublished} to steady), broker routed ` +
              `${end.routed} delivered ${end.delivered}; steady receivers got ` +
              `${Math.min(...steadyCounts)}..${Math.max(...steadyCounts)} of ${stats.steadyPublished}`);

  const leaks = [];
  if (end.broker_fds > startSnap.broker_fds + 2) leaks.push(`broker fds ${startSnap.broker_fds} -> ${end.broker_fds}`);
  if (end.gateway_fds > startSnap.gateway_fds + 2) leaks.push(`gateway fds ${startSnap.gateway_fds} -> ${end.gateway_fds}`);
  for (const key of ['broker_subscribers', 'broker_topics', 'gateway_engine_sessions', 'gateway_sockets',
                     'gateway_rooms', 'gateway_broker_subscriptions']) {
    if (end[key] !== startSnap[key]) leaks.push(`${key} ${startSnap[key]} -> ${end[key]}`);
  }
  const rssBound = (warmRss, floor) => warmRss + Math.max(floor, warmRss * 0.25);
  if (end.gateway_rss > rssBound(warm.gateway_rss, 16 << 20)) {
    leaks.push(`gateway RSS ${mib(warm.gateway_rss)} -> ${mib(end.gateway_rss)} MiB after the warm-up`);
  }
  if (end.broker_rss > rssBound(warm.broker_rss, 8 << 20)) {
    leaks.push(`broker RSS ${mib(warm.broker_rss)} -> ${mib(end.broker_rss)} MiB after the warm-up`);
  }
  if (steadyCounts.some((c) => c !== stats.steadyPublished)) {
    leaks.push(`steady receivers lost messages: ${steadyCounts.join(',')} of ${stats.steadyPublished}`);
  }
  if (stats.connects === 0) leaks.push('no client ever connected');
  for (const c of children) c.proc.kill('SIGTERM');
  if (leaks.length) {
    console.log(`VERDICT: LEAK\n  ${leaks.join('\n  ')}`);
    process.exit(1);
  }
  console.log('VERDICT: OK (no leaked fds, sessions, rooms or subscriptions; RSS within bounds)');
  process.exit(0);
}

main().catch((err) => {
  console.error(`soak.js: ${err.stack || err}`);
  process.exit(1);
});
