'use strict';
// The fault run's accounting (fault_run.js; README.md here), a pure function
// of what the run recorded, so its rules are tested on their own
// (accounting.test.js).
//
// Inputs:
//   publishers  [{sent: [{p, n, r, t, state, round}], skipped}]: every publish
//               (state 'acked' = the broker's receipt came back)
//   members     [{index, rooms, received: [{p, n, r, epoch, seq, t}],
//                 connects: [{t, recovered, round}] (the first is the initial
//                 connect), windows: [{fromSeq, fromKey, start, end, round}]}]:
//               a window is opened by each fresh session (recovered false):
//               from the last event received before it (its broker
//               sequence, and the publish it was) to when its rooms were
//               joined again (end; null if never)
//   rounds      [{round, kind: 'gateway'|'broker'|'both'}]
//
// Rules, per member:
//   - over the whole run broker sequences rise strictly (a publish seen
//     again = duplicate; a lower sequence = out of order) and each
//     publisher's counter rises strictly per room (streamOrder);
//   - each acknowledged publish to one of its rooms is delivered, or
//     "told" when it lies in a window: after the window's last event (by
//     broker sequence, known when anyone received the publish; else by send
//     time against the send time of that last event) and sent before the
//     window ended; otherwise it is a silent gap;
//   - a fresh session is charged to the round whose kill came last; those
//     after rounds that killed one process are counted apart.

const key = (p, n) => `${p}:${n}`;

function account(publishers, members, rounds) {
  const sent = publishers.flatMap((p) => p.sent);
  const counts = {sent: sent.length, acked: 0, refused: 0, noReceipt: 0, pendingAtEnd: 0, skippedDisconnected: 0,
                  unreceiptedDelivered: 0, expected: 0, delivered: 0, told: 0, silentGaps: 0, duplicates: 0,
                  outOfOrder: 0, streamOrder: 0, freshSessions: 0, recoveredReconnects: 0,
                  freshAfterOneProcess: 0, epochs: new Set()};
  for (const p of publishers) counts.skippedDisconnected += p.skipped || 0;
  for (const e of sent) {
    if (e.state === 'acked') counts.acked++;
    else if (e.state === 'refused') counts.refused++;
    else if (e.state === 'no-receipt') counts.noReceipt++;
    else counts.pendingAtEnd++;
  }
  // The broker sequence of each publish, from whoever received it.
  const seqOf = new Map();
  const deliveredAnywhere = new Set();
  for (const m of members) {
    for (const e of m.received) {
      seqOf.set(key(e.p, e.n), e.seq);
      deliveredAnywhere.add(key(e.p, e.n));
      counts.epochs.add(e.epoch);
    }
  }
  for (const e of sent) if (e.state !== 'acked' && deliveredAnywhere.has(key(e.p, e.n))) counts.unreceiptedDelivered++;
  const sentByKey = new Map(sent.map((e) => [key(e.p, e.n), e]));
  const kindOf = new Map(rounds.map((r) => [r.round, r.kind]));
  // Up to 10 examples of each kind, the worst kinds first.
  const examples = {gap: [], duplicate: [], order: [], fresh: []};
  const detail = (kind, line) => {
    if (examples[kind].length < 10) examples[kind].push(line);
  };

  for (const m of members) {
    for (const c of m.connects.slice(1)) {
      if (c.recovered) {
        counts.recoveredReconnects++;
      } else {
        counts.freshSessions++;
        if (kindOf.get(c.round) !== 'both') {
          counts.freshAfterOneProcess++;
          detail('fresh', `client ${m.index}: fresh session at ${c.t} ms after round ${c.round} (${kindOf.get(c.round) || 'no kill'})`);
        }
      }
    }
    // Order and duplicates over the whole run.
    const seen = new Map();
    let maxSeq = -1;
    const streamMax = new Map();
    for (const e of m.received) {
      const k = key(e.p, e.n);
      seen.set(k, (seen.get(k) || 0) + 1);
      if (seen.get(k) > 1) {
        counts.duplicates++;
        detail('duplicate', `client ${m.index}: duplicate ${k} (seq ${e.seq}) in ${e.r}`);
        continue;
      }
      if (e.seq <= maxSeq) {
        counts.outOfOrder++;
        detail('order', `client ${m.index}: ${k} seq ${e.seq} after seq ${maxSeq}`);
      }
      maxSeq = Math.max(maxSeq, e.seq);
      const s = `${e.p}/${e.r}`;
      if (streamMax.has(s) && e.n <= streamMax.get(s)) {
        counts.streamOrder++;
        detail('order', `client ${m.index}: publisher ${e.p}'s ${e.n} after its ${streamMax.get(s)} in ${e.r}`);
      }
      streamMax.set(s, Math.max(streamMax.get(s) ?? -1, e.n));
    }
    // Every acknowledged publish to one of its rooms: delivered, told, or a silent gap.
    const lastSend = (w) => (w.fromKey && sentByKey.has(w.fromKey) ? sentByKey.get(w.fromKey).t : w.start);
    for (const e of sent) {
      if (e.state !== 'acked' || !m.rooms.includes(e.r)) continue;
      counts.expected++;
      if (seen.has(key(e.p, e.n))) {
        counts.delivered++;
        continue;
      }
      const seq = seqOf.get(key(e.p, e.n));
      const inWindow = m.windows.some((w) => {
        const after = seq !== undefined ? seq > w.fromSeq : e.t >= lastSend(w);
        return after && w.end !== null && e.t < w.end;
      });
      if (inWindow) {
        counts.told++;
      } else {
        counts.silentGaps++;
        detail('gap', `client ${m.index}: SILENT GAP ${key(e.p, e.n)} to ${e.r} (sent ${e.t} ms, round ${e.round}, seq ${seq ?? 'never delivered'})`);
      }
    }
  }
  counts.epochs = [...counts.epochs];
  const details = [...examples.gap, ...examples.duplicate, ...examples.order, ...examples.fresh];
  return {counts, details};
}

module.exports = {account, key};
