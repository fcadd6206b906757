'use strict';
// Hostile clients hurt only themselves: attacks made of well-formed input,
// each with a bystander that must not notice. (The publish-authorization
// attacks are in rooms.test.js, next to the rules they test.)
//
// Topic exhaustion: the broker holds at most --max-topics-per-peer topics
// per gateway. A subscription the broker refused must be an error for the
// client that asked, never {"ok":true} for a membership that receives
// nothing. roomq only: the reference server has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

const TOPIC_LIMIT = 50;
const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: the reference server has no broker' : false;

let stack;
before(async () => {
  stack = await startStack({
    config: {namespaces: [ns('/', {relay: 'none'})]},
    brokerFlags: ['--max-topics-per-peer', String(TOPIC_LIMIT)],
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

test('a room the broker refused is an error, and the rooms it accepted keep working', {skip: ROOMQ_ONLY},
     async () => {
       const [attacker, bystander] = await Promise.all([
         connect(stack.url, '/', {transports: ['websocket']}),
         connect(stack.url, '/', {transports: ['websocket']}),
       ]);
       assert.deepEqual(await ack(bystander, 'join', 'kept'), {ok: true});
       // The gateway also holds a topic per socket (its own room) and one per
       // namespace: fewer than TOPIC_LIMIT + 10 joins are accepted.
       const replies = [];
       for (let i = 0; i < TOPIC_LIMIT + 10; i++) replies.push(await ack(attacker, 'join', `flood-${i}`));
       const refused = replies.filter((r) => r && typeof r.error === 'string');
       const accepted = replies.filter((r) => r && r.ok === true);
       assert.ok(refused.length >= 10, `refused ${refused.length} of ${replies.length}`);
       assert.equal(accepted.length + refused.length, replies.length);
       for (const r of refused) assert.match(r.error, /the broker refused the room/);
       // The bystander's room, accepted before, still works.
       const publisher = await connect(stack.url, '/', {transports: ['websocket']});
       assert.deepEqual(await ack(publisher, 'publish', 'kept', 'news', 'still here'), {ok: true});
       assert.deepEqual(await bystander.rec.waitFor('news'), ['still here']);
       assert.ok(attacker.connected);
     });
