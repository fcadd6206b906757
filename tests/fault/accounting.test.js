'use strict';
// The fault run's accounting rules (accounting.js) on hand-made records:
// what counts as delivered, told, a silent gap, a duplicate, out of order.

const {test} = require('node:test');
const assert = require('node:assert/strict');
const {account} = require('./accounting');

// Publisher 0 sends n = 0..count-1 to room r at t = 10 n; broker sequence
// 100 + n.
function publisher(count, state = () => 'acked') {
  return {sent: Array.from({length: count}, (_, n) => ({p: 0, n, r: 'r', t: 10 * n, state: state(n), round: 0})), skipped: 0};
}
const got = (n, seq = 100 + n) => ({p: 0, n, r: 'r', epoch: '1', seq, t: 10 * n + 1});
function member(received, {connects = [{t: 0, recovered: false, round: 0}], windows = []} = {}) {
  return {index: 0, rooms: ['r'], received, connects, windows};
}

test('everything delivered once in order: nothing to report', () => {
  const {counts} = account([publisher(5)], [member([0, 1, 2, 3, 4].map((n) => got(n)))], []);
  assert.equal(counts.expected, 5);
  assert.equal(counts.delivered, 5);
  for (const k of ['told', 'silentGaps', 'duplicates', 'outOfOrder', 'streamOrder']) assert.equal(counts[k], 0, k);
});

test('a missing acknowledged publish outside any window is a silent gap', () => {
  const {counts, details} = account([publisher(5)], [member([0, 1, 3, 4].map((n) => got(n)))], []);
  assert.equal(counts.silentGaps, 1);
  assert.match(details.join('\n'), /SILENT GAP 0:2/);
});

test('missing publishes after the last event before a fresh session, sent before the rejoin, are told', () => {
  const windows = [{fromSeq: 101, fromKey: '0:1', start: 25, end: 35, round: 1}];
  const connects = [{t: 0, recovered: false, round: 0}, {t: 25, recovered: false, round: 1}];
  // 2 and 3 (sent at 20 and 30) missed; 4 (sent at 40, after the rejoin) must arrive.
  const {counts} = account([publisher(5)], [member([0, 1, 4].map((n) => got(n)), {connects, windows})],
                           [{round: 1, kind: 'both'}]);
  assert.equal(counts.told, 2);
  assert.equal(counts.silentGaps, 0);
  assert.equal(counts.freshSessions, 1);
  assert.equal(counts.freshAfterOneProcess, 0, 'a round that killed two processes may tell');
});

test('a publish sent after the rejoin and missed is a silent gap even in a fresh session', () => {
  const windows = [{fromSeq: 101, fromKey: '0:1', start: 25, end: 35, round: 1}];
  const {counts} = account([publisher(5)], [member([0, 1, 2, 3].map((n) => got(n)), {windows})], []);
  assert.equal(counts.silentGaps, 1);
});

test('a publish before the last event of the old session is never told', () => {
  // 1 was skipped while 2 arrived: the window starts after 2.
  const windows = [{fromSeq: 102, fromKey: '0:2', start: 25, end: 45, round: 1}];
  const {counts} = account([publisher(5)], [member([0, 2, 4].map((n) => got(n)), {windows})], []);
  assert.equal(counts.silentGaps, 1);
  assert.equal(counts.told, 1);
});

test('a publish nobody received is placed by send time against the window\'s last event', () => {
  const windows = [{fromSeq: 101, fromKey: '0:1', start: 25, end: 45, round: 1}];
  const {counts} = account([publisher(5)], [member([0, 1].map((n) => got(n)), {windows})], []);
  // 2, 3 (sent 20, 30 >= 10 and < 45) told; 4 (sent 40) told too.
  assert.equal(counts.told, 3);
  assert.equal(counts.silentGaps, 0);
});

test('duplicates and out-of-order deliveries are counted', () => {
  const {counts} = account([publisher(4)], [member([got(0), got(1), got(1), got(3), got(2)])], []);
  assert.equal(counts.duplicates, 1);
  assert.equal(counts.outOfOrder, 1);
  assert.equal(counts.streamOrder, 1);
});

test('publishes without a receipt are not expected, but counted when delivered', () => {
  const pub = publisher(4, (n) => (n === 2 ? 'no-receipt' : n === 3 ? 'refused' : 'acked'));
  const {counts} = account([pub], [member([got(0), got(1), got(2)])], []);
  assert.equal(counts.expected, 2);
  assert.equal(counts.noReceipt, 1);
  assert.equal(counts.refused, 1);
  assert.equal(counts.unreceiptedDelivered, 1);
  assert.equal(counts.silentGaps, 0);
});

test('a fresh session after a round that killed one process is counted apart', () => {
  const connects = [{t: 0, recovered: false, round: 0}, {t: 5, recovered: false, round: 1},
                    {t: 9, recovered: true, round: 2}];
  const {counts} = account([publisher(1)], [member([got(0)], {connects})],
                           [{round: 1, kind: 'gateway'}, {round: 2, kind: 'broker'}]);
  assert.equal(counts.freshSessions, 1);
  assert.equal(counts.freshAfterOneProcess, 1);
  assert.equal(counts.recoveredReconnects, 1);
});
