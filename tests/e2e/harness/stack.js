'use strict';
require('./preflight');
// Starts the server side of an end-to-end test for the selected target:
//
//   E2E_TARGET=roomq (default)  the real binaries from ROOMQ_BIN_DIR (default
//                               <repo>/build/bin): roomq-broker on free
//                               loopback ports, N x roomq-gateway on
//                               127.0.0.1:0, and roomq-echo when asked.
//   E2E_TARGET=reference        tests/e2e/reference/server.js: the real
//                               Socket.IO server with roomq's conventions, N
//                               listeners in one process.
//
// Both get the same flags and the same YAML config, and are awaited by
// their log lines ("roomq-broker listening pub=... sub=...", "listening on
// http://HOST:PORT"), never by sleeping. stop() ends every child (SIGTERM,
// then SIGKILL); process.js kills leftovers when the test process exits.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const {Child} = require('./process');
const {toYaml} = require('./config');
const {failoverProxy} = require('./proxy');
const {io} = require('socket.io-client');

const REPO = path.resolve(__dirname, '..', '..', '..');
const TARGET = process.env.E2E_TARGET || 'roomq';
const BIN_DIR = process.env.ROOMQ_BIN_DIR || path.join(REPO, 'build', 'bin');
const START_TIMEOUT_MS = 15000;

const CONFORMANCE_CONFIG = path.join(REPO, 'tests', 'conformance', 'gateway.yaml');
// The gateway flags of the conformance setup (beside tests/conformance/gateway.yaml):
// heartbeats short enough that the suite sees pings and timeouts.
const CONFORMANCE_FLAGS = [
  '--ping-interval-ms', '300',
  '--ping-timeout-ms', '200',
  '--connect-timeout-ms', '1000',
  '--max-payload', '1000000',
  '--cors-origin', '*',
];

if (!['roomq', 'reference'].includes(TARGET)) {
  throw new Error(`E2E_TARGET must be roomq or reference, not ${TARGET}`);
}

// A loopback TCP port free a moment ago, for a process that must be told
// its peer's port before either starts (the two brokers of a pair,
// deploy/run-local.sh's broker and its nodes).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

function binary(name) {
  const file = path.join(BIN_DIR, name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: build it (cmake --build build --target roomq-broker roomq-gateway ` +
                    `roomq-echo), point ROOMQ_BIN_DIR at its bin dir, or run with E2E_TARGET=reference`);
  }
  return file;
}

// A namespace policy with every key spelled out (no reliance on defaults).
function ns(name, policy = {}) {
  const key = name.startsWith('^') ? 'pattern' : 'name';
  return {[key]: name, join: '.*', relay: 'broadcast', echo: false, forward: false, ...policy};
}

class Stack {
  constructor() {
    this.children = [];
    this.cleanups = [];  // run by stop() before the children stop
    this.gateways = [];  // Child per gateway (the one reference process for all, on reference)
    this.urls = [];
    this.metricsUrls = new Map();  // public url -> its --metrics-listen /metrics url (roomq)
    this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomq-e2e-'));
  }

  // How many socket records the broker holds in `state` ("connected" or
  // "disconnected"), from its /metrics: roomq only, and the broker must have
  // been started with --metrics-bind.
  async brokerSocketRecords(state) {
    const [, url] = await this.broker.waitForLine(/metrics on (http:\/\/\S+\/metrics)/);
    const text = await (await fetch(url)).text();
    const m = new RegExp(`^roomq_broker_socket_records\\{state="${state}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  get url() {
    return this.urls[0];
  }

  // Where the gateway serving `url` answers GET /metrics: its
  // --metrics-listen address, never the public port.
  metricsUrl(url = this.url) {
    const metrics = this.metricsUrls.get(url);
    if (!metrics) throw new Error(`no metrics listener known for ${url} (target ${TARGET})`);
    return metrics;
  }

  // Reads the public and the metrics address from a started gateway's log.
  async gatewayStarted(child) {
    const m = await child.waitForLine(/listening on (http:\/\/\S+:\d+)/, {timeoutMs: START_TIMEOUT_MS});
    const metrics = await child.waitForLine(/metrics on (http:\/\/\S+\/metrics)/, {timeoutMs: START_TIMEOUT_MS});
    this.metricsUrls.set(m[1], metrics[1]);
    return m[1];
  }

  spawn(name, command, args) {
    const child = new Child(name, command, args);
    this.children.push(child);
    return child;
  }

  configFile(options) {
    if (options.configFile) return options.configFile;
    if (!options.config) return null;
    const file = path.join(this.tmpDir, 'gateway.yaml');
    fs.writeFileSync(file, toYaml(options.config));
    return file;
  }

  async startReference(options, configFile, listen = null) {
    const args = [path.join(__dirname, '..', 'reference', 'server.js')];
    for (let i = 0; i < options.gateways; i++) args.push('--listen', listen ? listen[i] : '127.0.0.1:0');
    if (configFile) args.push('--config', configFile);
    args.push('--static-dir', options.staticDir || path.join(REPO, 'gateway', 'web', 'static'));
    args.push(...options.gatewayFlags);
    const server = this.spawn('reference', process.execPath, args);
    const lines = await server.waitForLine(/listening on (http:\/\/\S+:\d+)/, {
      timeoutMs: START_TIMEOUT_MS,
      count: options.gateways,
    });
    const matches = options.gateways === 1 ? [lines] : lines;
    this.urls = matches.map((m) => m[1]);
    this.gateways = matches.map(() => server);
  }

  async startRoomq(options, configFile) {
    const gatewayBin = binary('roomq-gateway');
    const brokerBin = binary('roomq-broker');
    const echoBin = options.echo ? binary('roomq-echo') : null;

    this.brokerBin = brokerBin;
    let brokerFlags;
    if (options.brokerPair) {
      await this.startBrokerPair(options);
      brokerFlags = ['--broker-pub', `${this.brokerPub},${this.backup.pub}`,
                     '--broker-sub', `${this.brokerSub},${this.backup.sub}`];
    } else {
      const broker = this.spawn('broker', brokerBin,
                                ['--pub-bind', 'tcp://127.0.0.1:*', '--sub-bind', 'tcp://127.0.0.1:*', ...options.brokerFlags]);
      const m = await broker.waitForLine(/roomq-broker listening pub=(\S+) sub=(\S+)/, {timeoutMs: START_TIMEOUT_MS});
      this.broker = broker;
      this.brokerPub = m[1];
      this.brokerSub = m[2];
      brokerFlags = ['--broker-pub', this.brokerPub, '--broker-sub', this.brokerSub];
    }

    this.gatewayArgs = (listen) => {
      const args = ['--listen', listen, '--metrics-listen', '127.0.0.1:0', ...brokerFlags];
      if (configFile) args.push('--config', configFile);
      // Without --static-dir the gateway serves its build/install location.
      if (options.staticDir) args.push('--static-dir', options.staticDir);
      args.push(...options.gatewayFlags);
      return args;
    };
    this.gatewayBin = gatewayBin;
    const gateways = [];
    for (let i = 0; i < options.gateways; i++) {
      gateways.push(this.spawn(`gateway${i}`, gatewayBin, this.gatewayArgs('127.0.0.1:0')));
    }
    if (echoBin) this.spawn('echo', echoBin, brokerFlags);
    this.urls = await Promise.all(gateways.map((g) => this.gatewayStarted(g)));
    this.gateways = gateways;
  }

  // A failover pair (broker/failover/README.md): `this.broker` is the
  // primary, `this.backup.child` the backup; resolves once the primary is
  // active and the backup passive.
  async startBrokerPair(options) {
    const [primaryPair, backupPair] = await Promise.all([freePort(), freePort()]);
    // With pairLinkProxy each broker reaches the other through a TCP proxy
    // the test can cut (`this.pairLink.cut()`): a partition between the two
    // brokers only.
    let toBackup = backupPair;
    let toPrimary = primaryPair;
    if (options.pairLinkProxy) {
      const proxies = await Promise.all([failoverProxy([`http://127.0.0.1:${backupPair}`]),
                                         failoverProxy([`http://127.0.0.1:${primaryPair}`])]);
      toBackup = new URL(proxies[0].url).port;
      toPrimary = new URL(proxies[1].url).port;
      let cut = false;
      this.pairLink = {
        cut: () => {
          if (!cut) proxies.forEach((proxy) => proxy.close());
          cut = true;
        },
      };
      this.cleanups.push(this.pairLink.cut);
    }
    const start = async (name, role, own, peer) => {
      const pairArgs = ['--pair-role', role, '--pair-bind', `tcp://127.0.0.1:${own}`,
                        '--pair-peer', `tcp://127.0.0.1:${peer}`, ...options.brokerFlags,
                        ...((options.pairFlags || {})[role] || [])];
      const child = this.spawn(name, this.brokerBin,
                               ['--pub-bind', 'tcp://127.0.0.1:*', '--sub-bind', 'tcp://127.0.0.1:*', ...pairArgs]);
      const m = await child.waitForLine(/roomq-broker listening pub=(\S+) sub=(\S+)/, {timeoutMs: START_TIMEOUT_MS});
      return {name, child, pub: m[1], sub: m[2], pairArgs};
    };
    const [primary, backup] = await Promise.all([
      start('broker', 'primary', primaryPair, toBackup),
      start('broker-b', 'backup', backupPair, toPrimary),
    ]);
    await primary.child.waitForLine(/pair: starting-primary -> active/, {timeoutMs: START_TIMEOUT_MS});
    await backup.child.waitForLine(/pair: starting-backup -> passive/, {timeoutMs: START_TIMEOUT_MS});
    this.broker = primary.child;
    this.brokerPub = primary.pub;
    this.brokerSub = primary.sub;
    this.backup = backup;
    this.pairMembers = {primary, backup};
    this.pairEndpoints = {primary: `tcp://127.0.0.1:${primaryPair}`, backup: `tcp://127.0.0.1:${backupPair}`};
  }

  // Stops gateway `i` (SIGTERM) and starts it again on the same address;
  // on the reference target the one process serving every listener.
  async restartGateway(i = 0) {
    const listen = this.urls.map((u) => u.replace(/^http:\/\//, ''));
    const old = this.gateways[i];
    await old.stop();
    this.children = this.children.filter((c) => c !== old);
    if (TARGET === 'reference') {
      await this.startReference(this.options, this.configPath, listen);
      return;
    }
    const child = this.spawn(`gateway${i}`, this.gatewayBin, this.gatewayArgs(listen[i]));
    const url = await this.gatewayStarted(child);
    if (url !== this.urls[i]) throw new Error(`gateway ${i} came back on ${url}, not ${this.urls[i]}`);
    this.gateways[i] = child;
  }

  // Faults (roomq target only). SIGKILLs the broker and waits until it is gone.
  async killBroker() {
    this.broker.proc.kill('SIGKILL');
    await this.broker.exitPromise;
    this.children = this.children.filter((c) => c !== this.broker);
  }

  // With brokerPair: SIGKILLs the pair's `role` broker ("primary" or
  // "backup") and waits until it is gone.
  async killPairMember(role) {
    const member = this.pairMembers[role];
    member.child.proc.kill('SIGKILL');
    await member.child.exitPromise;
    this.children = this.children.filter((c) => c !== member.child);
  }

  // With brokerPair: starts the pair's `role` broker again on its endpoints
  // with its flags; retried while the ports are still held.
  async restartPairMember(role) {
    const member = this.pairMembers[role];
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const child = this.spawn(member.name, this.brokerBin,
                               ['--pub-bind', member.pub, '--sub-bind', member.sub, ...member.pairArgs]);
      try {
        await child.waitForLine(/roomq-broker listening pub=/, {timeoutMs: Math.max(1, deadline - Date.now())});
        member.child = child;
        if (role === 'primary') this.broker = child;
        return child;
      } catch (err) {
        this.children = this.children.filter((c) => c !== child);
        if (Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  // SIGKILLs gateway `i` and waits until it is gone (its port refuses from
  // then on; its clients' transports are closed by the kernel).
  async killGateway(i) {
    const child = this.gateways[i];
    child.proc.kill('SIGKILL');
    await child.exitPromise;
    this.children = this.children.filter((c) => c !== child);
  }

  // Starts gateway `i` again on the address it had (after killGateway, or
  // once its process is gone), with the stack's config and flags; retried
  // while the port cannot be bound yet.
  async startGatewayAgain(i) {
    const listen = this.urls[i].replace(/^http:\/\//, '');
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const child = this.spawn(`gateway${i}`, this.gatewayBin, this.gatewayArgs(listen));
      try {
        const url = await this.gatewayStarted(child);
        if (url !== this.urls[i]) throw new Error(`gateway ${i} came back on ${url}, not ${this.urls[i]}`);
        this.gateways[i] = child;
        return child;
      } catch (err) {
        this.children = this.children.filter((c) => c !== child);
        await child.stop();
        if (Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  // Starts a broker on the endpoints of the first one; retried while the
  // ports are still held by the dying one. `extraArgs` defaults to the
  // stack's brokerFlags (so the same --data-dir: the same epoch).
  async restartBroker(extraArgs = this.options.brokerFlags) {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const broker = this.spawn('broker', this.brokerBin,
                                ['--pub-bind', this.brokerPub, '--sub-bind', this.brokerSub, ...extraArgs]);
      try {
        await broker.waitForLine(/roomq-broker listening pub=/, {timeoutMs: Math.max(1, deadline - Date.now())});
        this.broker = broker;
        return broker;
      } catch (err) {
        this.children = this.children.filter((c) => c !== broker);
        if (Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  // One more roomq-gateway on the same broker (127.0.0.1:0, the stack's
  // config and flags plus `extraFlags`); resolves with {child, url}.
  async addGateway(extraFlags = []) {
    const child = this.spawn(`gateway${this.gateways.length}`, this.gatewayBin,
                             [...this.gatewayArgs('127.0.0.1:0'), ...extraFlags]);
    const url = await this.gatewayStarted(child);
    this.gateways.push(child);
    this.urls.push(url);
    return {child, url};
  }

  // The echo service is ready once it answers a connection with `auth`;
  // until it has subscribed, connections go unseen. Probes until then.
  async waitForEchoService(nsp = '/') {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = null;
    while (Date.now() < deadline) {
      const socket = io(this.url + nsp, {forceNew: true, reconnection: false, transports: ['websocket']});
      try {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no auth event within 500 ms')), 500);
          socket.on('auth', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.on('connect_error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
        return;
      } catch (err) {
        lastError = err;
      } finally {
        socket.disconnect();
      }
    }
    throw new Error(`echo service not ready within ${START_TIMEOUT_MS} ms: ${lastError && lastError.message}\n` +
                    this.tails());
  }

  tails() {
    return this.children.map((c) => c.tail()).join('\n');
  }

  async stop() {
    for (const cleanup of this.cleanups) cleanup();
    await Promise.all(this.children.map((c) => c.stop()));
    fs.rmSync(this.tmpDir, {recursive: true, force: true});
  }
}

// options:
//   config        {namespaces: [...]} written as YAML for --config (omit for none)
//   configFile    an existing YAML file instead
//   gateways      number of gateways on one broker (default 1)
//   gatewayFlags  extra flags for every gateway
//   brokerFlags   extra flags for the broker (roomq only)
//   brokerPair    a failover pair of brokers instead of one (roomq only;
//                 broker/failover/README.md): `broker` is the primary,
//                 `backup.child` the backup, every node given both
//   pairFlags     with brokerPair: {primary: [...], backup: [...]}, flags
//                 for one broker of the pair only (e.g. its --data-dir)
//   pairLinkProxy with brokerPair: the brokers reach each other through a
//                 TCP proxy that `pairLink.cut()` closes
//   echo          start roomq-echo and wait until it serves connections
//   staticDir     --static-dir for the gateways (roomq: default none, so the
//                 gateway's own default location is what is tested;
//                 reference: gateway/web/static)
async function startStack(options = {}) {
  options = {gateways: 1, gatewayFlags: [], brokerFlags: [], echo: false, ...options};
  const stack = new Stack();
  try {
    const configFile = stack.configFile(options);
    stack.options = options;
    stack.configPath = configFile;
    if (TARGET === 'reference') await stack.startReference(options, configFile);
    else await stack.startRoomq(options, configFile);
    if (options.echo) await stack.waitForEchoService();
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

// The conformance setup (test/conformance.test.js says what it checks).
function startConformanceStack() {
  return startStack({configFile: CONFORMANCE_CONFIG, gatewayFlags: CONFORMANCE_FLAGS, echo: true});
}

module.exports = {startStack, startConformanceStack, ns, freePort, TARGET, REPO, BIN_DIR, CONFORMANCE_CONFIG};
