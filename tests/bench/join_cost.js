#!/usr/bin/env node
// What a Socket.IO join or leave costs a gateway and the broker: stock
// socket.io-client sockets on one gateway join and leave rooms (each
// waiting for its ack) as fast as they can; the gateway's and the broker's
// CPU time (/proc/PID/stat) is divided by the joins and leaves done. The
// CPU per operation is the figure to compare: on a shared 2-core machine
// the Node clients, not the gateway, set how many operations happen, so
// operations per second alone would hide the gateway's cost.
//
//   node tests/bench/join_cost.js BIN_DIR_A [BIN_DIR_B] [--seconds 5] [--runs 3]
//
// Runs A and B alternately (A B A B ...) in the same process and prints
// each run and the medians as JSON, with B/A ratios. Uses the e2e harness
// (tests/e2e, after its npm ci). Namespace "/" has recovery on, so every
// socket has a full record (pid, window) at the broker.

'use strict';

const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  args.splice(i, 2);
  return value;
};
const SECONDS = flag('--seconds', 5);
const RUNS = flag('--runs', 3);
const CLIENTS = flag('--clients', 40);
const ROOMS = flag('--rooms', 100);
const binDirs = args.map((dir) => path.resolve(dir));
if (binDirs.length === 0) {
  console.error('usage: join_cost.js BIN_DIR_A [BIN_DIR_B] [--seconds S] [--runs N]');
  process.exit(2);
}

const E2E = path.join(__dirname, '..', 'e2e');
const TICKS_PER_SECOND = 100;  // USER_HZ on Linux

function cpuSeconds(pid) {
  // Fields after the parenthesised command name: utime and stime are 14 and 15.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function runOnce(binDir) {
  process.env.ROOMQ_BIN_DIR = binDir;
  // The harness reads ROOMQ_BIN_DIR when it is loaded: load it afresh.
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(path.join(E2E, 'harness'))) delete require.cache[key];
  }
  const {startStack, ns} = require(path.join(E2E, 'harness', 'stack.js'));
  const {connect, ack} = require(path.join(E2E, 'harness', 'client.js'));
  const stack = await startStack({
    config: {namespaces: [ns('/', {relay: 'none', recovery: {max_disconnection: '60s'}})]},
  });
  const sockets = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      sockets.push(await connect(stack.url, '/', {transports: ['websocket']}));
    }
    let ops = 0;
    let running = true;
    const loop = async (socket, i) => {
      let k = i;
      while (running) {
        const room = `room-${k++ % ROOMS}`;
        await ack(socket, 'join', room);
        await ack(socket, 'leave', room);
        ops += 2;
      }
    };
    const loops = sockets.map((socket, i) => loop(socket, i));
    await new Promise((resolve) => setTimeout(resolve, 1000));  // warm-up
    const gatewayPid = stack.gateways[0].proc.pid;
    const brokerPid = stack.broker.proc.pid;
    const start = {ops, gateway: cpuSeconds(gatewayPid), broker: cpuSeconds(brokerPid),
                   at: process.hrtime.bigint()};
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    const done = ops - start.ops;
    const elapsed = Number(process.hrtime.bigint() - start.at) / 1e9;
    const result = {
      bin: binDir,
      ops_per_s: Math.round(done / elapsed),
      gateway_cpu_us_per_op: +((cpuSeconds(gatewayPid) - start.gateway) * 1e6 / done).toFixed(2),
      broker_cpu_us_per_op: +((cpuSeconds(brokerPid) - start.broker) * 1e6 / done).toFixed(2),
    };
    running = false;
    await Promise.all(loops);
    return result;
  } finally {
    for (const socket of sockets) socket.close();
    await stack.stop();
  }
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

(async () => {
  const runs = binDirs.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    for (let b = 0; b < binDirs.length; b++) {
      const result = await runOnce(binDirs[b]);
      console.log(JSON.stringify(result));
      runs[b].push(result);
    }
  }
  const summary = runs.map((results, b) => ({
    bin: binDirs[b],
    ops_per_s: median(results.map((x) => x.ops_per_s)),
    gateway_cpu_us_per_op: median(results.map((x) => x.gateway_cpu_us_per_op)),
    broker_cpu_us_per_op: median(results.map((x) => x.broker_cpu_us_per_op)),
  }));
  const out = {clients: CLIENTS, rooms: ROOMS, seconds: SECONDS, runs: RUNS, medians: summary};
  if (summary.length === 2) {
    const ratio = (key) => +(summary[1][key] / summary[0][key]).toFixed(3);
    out.b_over_a = {
      ops_per_s: ratio('ops_per_s'),
      gateway_cpu_us_per_op: ratio('gateway_cpu_us_per_op'),
      broker_cpu_us_per_op: ratio('broker_cpu_us_per_op'),
    };
  }
  console.log(JSON.stringify(out, null, 1));
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
