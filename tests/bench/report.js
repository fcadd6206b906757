#!/usr/bin/env node
'use strict';
// Turns run.sh's raw.jsonl (one roomq-loadgen JSON line per run, tagged with
// "target" roomq|socketio, "case" and "round") into results.md and the
// gnuplot input for results.png. With several rounds every figure is the
// median over the rounds, shown with its range (min-max); the ratio is the
// ratio of the medians, with the range of the per-round ratios.
//   Usage: report.js RAW.jsonl RESULTS_DIR [SCALE]

const fs = require('node:fs');
const path = require('node:path');

const [rawPath, outDir, scale = '1'] = process.argv.slice(2);
const runs = fs.readFileSync(rawPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const rounds = Math.max(1, ...runs.map((r) => r.round || 1));
const all = (c, target) => runs.filter((r) => r.case === c && r.target === target);
const median = (xs) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// The figures of one field over the rounds: median, min, max, by round.
const stat = (c, target, field) => {
  const byRound = new Map();
  for (const r of all(c, target)) if (r[field] !== undefined) byRound.set(r.round || 1, r[field]);
  const xs = [...byRound.values()];
  if (xs.length === 0) return undefined;
  return {median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, byRound};
};
// The first run of a case (for fields like `connections` used in targets).
const get = (c, target) => all(c, target)[0];

// [case, label, field, unit, target: {ratio: max roomq/socketio} | {max} | {equals: 'ready'}]
const rows = [
  ['fanout_cpu', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns', {ratio: 0.1}],
  ['fanout_cpu', 'delivered messages/s', 'delivered_per_s', '/s'],
  ['fanout_cpu', 'lost messages', 'lost', ''],
  ['fanout_cpu', 'latency p99', 'p99_us', 'us'],
  ['latency_100', 'latency p50', 'p50_us', 'us'],
  ['latency_100', 'latency p99', 'p99_us', 'us', {ratio: 0.2}],
  ['latency_100', 'latency p99.9', 'p999_us', 'us'],
  ['latency_100', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns'],
  ['latency_100', 'lost messages', 'lost', ''],
  ['steady_50', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns'],
  ['steady_50', 'latency p99', 'p99_us', 'us'],
  ['rooms', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns'],
  ['rooms', 'delivered messages/s', 'delivered_per_s', '/s'],
  ['rooms', 'latency p99', 'p99_us', 'us'],
  ['rooms', 'lost messages', 'lost', ''],
  ['idle_10k', 'RSS per idle connection', 'server_rss_per_conn', 'B', {ratio: 0.2, max: 4096}],
  ['idle_10k', 'connections ready', 'ready', ''],
  ['held_15k', 'connections held (ready)', 'ready', '', {equalsAsked: true}],
  ['held_15k', 'connections dropped', 'dropped', '', {max: 0}],
  ['held_15k', 'pings answered', 'pings_answered', ''],
  ['held_15k', 'RSS per connection', 'server_rss_per_conn', 'B'],
];

const fmt = (v) => (v === undefined ? 'n/a' : Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));

const lines = [];
const chart = [];
const range = (s, u) => (s && s.n > 1 ? ` [${fmt(s.min)}–${fmt(s.max)}]` : '');
// `base` (roomq unless said) against `other` (socketio, floor, roomq) on one field of case c: both
// figures, the ratio of the medians and the range of the per-round ratios.
const compare = (c, field, other, base = 'roomq') => {
  const sa = stat(c, base, field);
  const sb = stat(c, other, field);
  const va = sa ? sa.median : undefined;
  const vb = sb ? sb.median : undefined;
  const ratio = va !== undefined && vb ? va / vb : undefined;
  const roundRatios = [];
  if (sa && sb) {
    for (const [round, x] of sa.byRound) {
      const y = sb.byRound.get(round);
      if (y) roundRatios.push(x / y);
    }
  }
  const ratioRange = roundRatios.length > 1
      ? ` [${Math.min(...roundRatios).toFixed(3)}–${Math.max(...roundRatios).toFixed(3)}]` : '';
  return {sa, sb, va, vb, ratio, ratioRange};
};
// The three middle cells of a row: roomq's figure, the other's, the ratio.
const figureCells = ({sa, sb, va, vb, ratio, ratioRange}, unit) => {
  const u = unit ? ` ${unit}` : '';
  return `${fmt(va)}${va !== undefined ? u : ''}${range(sa)} | ` +
         `${fmt(vb)}${vb !== undefined ? u : ''}${range(sb)} | ` +
         `${ratio !== undefined ? ratio.toFixed(3) : 'n/a'}${ratioRange}`;
};
lines.push('| scenario | figure | roomq median [range] | Socket.IO median [range] | ratio of medians [per-round range] | target | met |');
lines.push('|---|---|---:|---:|---:|---|---|');
for (const [c, label, field, unit, target] of rows) {
  if (!runs.some((r) => r.case === c)) continue;  // not run (BENCH_CASES)
  const a = get(c, 'roomq');
  const cmp = compare(c, field, 'socketio');
  const {va, ratio} = cmp;
  let targetText = '';
  let met = '';
  if (target) {
    const parts = [];
    const ok = [];
    if (target.ratio !== undefined) {
      parts.push(`ratio <= ${target.ratio}`);
      ok.push(ratio !== undefined && ratio <= target.ratio);
    }
    if (target.max !== undefined) {
      parts.push(`roomq <= ${target.max}${unit ? ' ' + unit : ''}`);
      ok.push(va !== undefined && va <= target.max);
    }
    if (target.equalsAsked) {
      parts.push(`all ${a ? a.connections : '?'} held`);
      const runsA = all(c, 'roomq');
      ok.push(runsA.length > 0 && runsA.every((r) => r.ready === r.connections && r.connect_failed === 0));
    }
    targetText = parts.join(', ');
    met = ok.every(Boolean) ? 'yes' : '**no**';
  }
  lines.push(`| ${c} | ${label} | ${figureCells(cmp, unit)} | ${targetText} | ${met} |`);
  if (target && target.ratio !== undefined && ratio) {
    chart.push([`${c}\\n${label}`, 1 / ratio, 1 / target.ratio]);
  }
}

// roomq against the floor (floor_server.cc: one write per member per
// message, nothing else) in the one-room fan-out cases:
// [case, label, field, unit, target ratio roomq/floor or undefined]
const floorRows = [
  ['steady_50', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns', 1.15],
  ['steady_50', 'latency p99', 'p99_us', 'us'],
  ['latency_100', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns'],
  ['latency_100', 'latency p99', 'p99_us', 'us'],
  ['fanout_cpu', 'server CPU per delivered message', 'server_cpu_ns_per_msg', 'ns'],
  ['fanout_cpu', 'lost messages', 'lost', ''],
];
const floorLines = [];
if (runs.some((r) => r.target === 'floor')) {
  floorLines.push('## roomq vs the floor', '');
  floorLines.push('| scenario | figure | roomq median [range] | floor median [range] | ratio of medians [per-round range] | target | met |');
  floorLines.push('|---|---|---:|---:|---:|---|---|');
  for (const [c, label, field, unit, want] of floorRows) {
    const cmp = compare(c, field, 'floor');
    if (!cmp.sa && !cmp.sb) continue;
    const met = want === undefined ? '' : cmp.ratio !== undefined && cmp.ratio <= want ? 'yes' : '**no**';
    floorLines.push(`| ${c} | ${label} | ${figureCells(cmp, unit)} | ` +
                    `${want === undefined ? '' : `ratio <= ${want}`} | ${met} |`);
  }
  floorLines.push('');
}

// Opt-in write coalescing (the gateway's --write-delay-ms, targets
// roomq_wdN): each delay against roomq without it, and against the floor.
const delays = [...new Set(runs.map((r) => r.target).filter((t) => /^roomq_wd\d+$/.test(t)))]
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
const coalescingLines = [];
if (delays.length > 0) {
  coalescingLines.push('## Write coalescing (--write-delay-ms)', '');
  coalescingLines.push('| scenario | write delay | server CPU per delivered message [range] | vs no delay [per-round range] | vs the floor | latency p99 [range] | vs no delay |');
  coalescingLines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const c of ['steady_50', 'latency_100']) {
    for (const target of ['roomq', ...delays]) {
      const cpu = compare(c, 'server_cpu_ns_per_msg', 'roomq', target);
      if (!cpu.sa) continue;
      const floor = compare(c, 'server_cpu_ns_per_msg', 'floor', target);
      const p99 = compare(c, 'p99_us', 'roomq', target);
      const self = target === 'roomq';
      const ratio = (x) => (x.ratio !== undefined ? x.ratio.toFixed(3) : 'n/a');
      coalescingLines.push(`| ${c} | ${self ? 0 : target.slice(8)} ms | ${fmt(cpu.va)} ns${range(cpu.sa)} | ` +
                           `${self ? '1' : ratio(cpu) + cpu.ratioRange} | ${ratio(floor)} | ` +
                           `${fmt(p99.va)} us${range(p99.sa)} | ${self ? '1' : ratio(p99)} |`);
    }
  }
  coalescingLines.push('');
}

// Capacity: per server and round, the largest rate (case capacity_R) with
// p99 <= 50 ms, nothing lost and no publish skipped (0 when none was), and
// the deliveries per CPU-second of that run; the two servers are also
// compared at the largest rate both sustained in a round.
// prefix: the case name before _RATE; title: the load, in words.
const capacityLines = [];
const capacityTable = (prefix, title) => {
  const pattern = new RegExp(`^${prefix}_\\d+$`);
  const capacityRuns = runs.filter((r) => pattern.test(r.case));
  if (capacityRuns.length === 0) return;
  const rateOf = (r) => Number(r.case.slice(prefix.length + 1));
  const ok = (r) => r.p99_us <= 50000 && r.lost === 0 && r.publish_skipped === 0 && r.ready === r.connections;
  const perCpuS = (r) => r.delivered / (r.server_cpu_ns / 1e9);
  const roundsRun = [...new Set(capacityRuns.map((r) => r.round || 1))];
  const tried = Math.max(...capacityRuns.map(rateOf));
  const bestRun = (target, round, limit = Infinity) => {
    let best;
    for (const r of capacityRuns) {
      if (r.target !== target || (r.round || 1) !== round || !ok(r) || rateOf(r) > limit) continue;
      if (!best || rateOf(r) > rateOf(best)) best = r;
    }
    return best;
  };
  const summary = (xs) => (xs.length ? {median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length} : undefined);
  const byServer = {};
  for (const target of ['roomq', 'socketio']) {
    const best = roundsRun.map((round) => bestRun(target, round));
    byServer[target] = {
      rate: summary(best.map((r) => (r ? rateOf(r) : 0))),
      perCpuS: summary(best.filter(Boolean).map(perCpuS)),
    };
  }
  // At the largest rate both sustained in the round: efficiency at equal load.
  const common = [];
  for (const round of roundsRun) {
    const a = bestRun('roomq', round);
    const b = bestRun('socketio', round);
    if (!a || !b) continue;
    const rate = Math.min(rateOf(a), rateOf(b));
    const a2 = bestRun('roomq', round, rate);
    const b2 = bestRun('socketio', round, rate);
    if (a2 && b2 && rateOf(a2) === rate && rateOf(b2) === rate) common.push(perCpuS(a2) / perCpuS(b2));
  }
  const cell = (st, unit = '') => (st ? `${fmt(st.median)}${unit}${range(st)}` : 'none');
  capacityLines.push(`## Capacity: ${title}`, '');
  capacityLines.push(`Largest steady rate sustained with p99 <= 50 ms, nothing lost and no publish skipped (rates tried up to ${tried} msg/s,`,
                     'doubling; 0 when the lowest failed), and the deliveries per second of server CPU (window and drain) in that run.',
                     'A server that sustained the largest rate tried was limited by the load generator on the same cores.', '');
  capacityLines.push('| server | largest sustained rate [range] | deliveries per CPU-second at it [range] |');
  capacityLines.push('|---|---:|---:|');
  capacityLines.push(`| roomq | ${cell(byServer.roomq.rate, ' msg/s')} | ${cell(byServer.roomq.perCpuS)} |`);
  capacityLines.push(`| Socket.IO | ${cell(byServer.socketio.rate, ' msg/s')} | ${cell(byServer.socketio.perCpuS)} |`);
  const rateRatio = byServer.socketio.rate && byServer.socketio.rate.median > 0 ? (byServer.roomq.rate.median / byServer.socketio.rate.median).toFixed(2) : 'n/a';
  const cpuRatio = byServer.roomq.perCpuS && byServer.socketio.perCpuS
      ? (byServer.roomq.perCpuS.median / byServer.socketio.perCpuS.median).toFixed(2) : 'n/a';
  capacityLines.push(`| roomq / Socket.IO | ${rateRatio} | ${cpuRatio} (target >= 10) |`);
  capacityLines.push('', `At the largest rate both sustained (per round, median): roomq delivers ${common.length ? median(common).toFixed(2) : 'n/a'}x as much per CPU-second.`);
  capacityLines.push('');
};
capacityTable('capacity', 'one room of 1000 members');
capacityTable('capacity_rooms', '1,000 rooms of 10 members');

// held_50k_3gw: three gateways on one broker, one loadgen each (targets roomq_gwN).
const spreadLines = [];
const spreadTargets = [...new Set(runs.filter((r) => r.case === 'held_50k_3gw').map((r) => r.target))].sort();
if (spreadTargets.length > 0) {
  const total = (field) => spreadTargets.reduce((sum, t) => sum + (stat('held_50k_3gw', t, field)?.median ?? 0), 0);
  spreadLines.push('## 50,000 idle connections over three gateways', '');
  spreadLines.push(`${fmt(total('ready'))} of ${fmt(total('connections'))} connections ready, ${fmt(total('dropped'))} dropped, held 60 s with heartbeats`,
                   '(ping interval 5 s); one broker, three gateways, one load generator per gateway.', '');
  spreadLines.push('| gateway | ready [range] | dropped [range] | pings answered [range] | RSS per connection [range] |');
  spreadLines.push('|---|---:|---:|---:|---:|');
  for (const t of spreadTargets) {
    const cell = (field, unit = '') => {
      const st = stat('held_50k_3gw', t, field);
      return st ? `${fmt(st.median)}${unit}${range(st)}` : 'n/a';
    };
    spreadLines.push(`| ${t.replace('roomq_', '')} | ${cell('ready')} | ${cell('dropped')} | ${cell('pings_answered')} | ${cell('server_rss_per_conn', ' B')} |`);
  }
  spreadLines.push('');
}

const scenarios = [
  '- **fanout_cpu**: 1000 receivers in one room, 1 publisher at 200 msg/s for 10 s (+ drain).',
  '- **latency_100**: 1000 receivers in one room, 1 publisher at a steady 100 msg/s for 10 s.',
  '- **steady_50**: 1000 receivers in one room, 1 publisher at a steady 50 msg/s for 10 s.',
  '- **rooms**: 2000 receivers in rooms of 10, 2 publishers at 500 msg/s over the 200 rooms for 10 s.',
  '- **idle_10k**: 10,000 connections; RSS growth of the server processes / connections.',
  '- **held_15k**: 15,000 connections held for 20 s with heartbeats (ping interval 5 s on both servers).',
  '- **capacity**: one room of 1000 receivers, 1 publisher, 10 s at each rate until one fails.',
  '- **capacity_rooms**: 10,000 receivers in rooms of 10, 2 publishers over the 1,000 rooms, 10 s at each rate until one fails.',
  '- **held_50k_3gw**: roomq only, 3 x 16,667 connections held for 60 s over three gateways and one broker.',
];
const md = [
  '# roomq vs Socket.IO: benchmark results',
  '',
  `Generated by \`tests/bench/run.sh\` on ${new Date().toISOString()} (client scale ${scale}).`,
  `${rounds} round(s), same machine, same roomq-loadgen client load, servers alternating (the order flips`,
  'from scenario to scenario and from round to round); each figure is the median over the rounds with',
  'its range in brackets. roomq = roomq-broker +',
  'roomq-gateway (CPU and RSS of both summed); Socket.IO = tests/e2e/reference/server.js (npm socket.io',
  '4.8.x, one Node process); floor = tests/bench/floor_server.cc (one write per member per message,',
  'nothing else). Server CPU is utime+stime from /proc over the publish window and drain.',
  'A ratio below 1 means roomq needs less (or is faster). "met" judges the ratio of the medians.',
  '',
  ...lines,
  '',
  ...floorLines,
  ...coalescingLines,
  ...capacityLines,
  ...spreadLines,
  ...scenarios,
  '',
  '![chart](results.png)',
  '',
].join('\n');
fs.writeFileSync(path.join(outDir, 'results.md'), md);

fs.writeFileSync(path.join(outDir, 'chart.dat'),
                 chart.map(([name, got, want]) => `"${name}" ${got.toFixed(3)} ${want}`).join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'chart.gp'), `set terminal png size 1100,600 noenhanced
set bmargin 5
set output "${path.join(outDir, 'results.png')}"
set title "roomq advantage over Socket.IO (Socket.IO / roomq; higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 10
set yrange [0.1:*]
set grid ytics
set key top left
plot "${path.join(outDir, 'chart.dat')}" using 2:xtic(1) title "measured" lc rgb "#2a7ab0", \\
     "" using 3 title "target" lc rgb "#bbbbbb"
`);
process.stdout.write(md);
