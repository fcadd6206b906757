'use strict';
// A family of dynamic namespaces served by one native service
// (Client::OfPattern; the example is roomq-echo's ServeTenants,
// clients/examples/echo/echo_service.h, behind the gateway config
// `pattern: '^/tenant-\w+$'`), through the stock socket.io-client and two
// gateways: each /tenant-<name> is created on demand, the service sees each
// connection with its own namespace, and its socket.nsp.emit reaches that
// tenant's sockets on every gateway and no other tenant. The same scenario
// runs against the npm socket.io reference server, where it is
// io.of(/^\/tenant-\w+$/).on('connection', (s) => s.nsp.emit('hello', s.id)).

const {describe, test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {closeAll, connect, until} = require('../harness/client');

const CONFIG = {
  namespaces: [
    ns('/', {join: '', relay: 'none', forward: true}),
    ns('^/tenant-\\w+$', {join: '', relay: 'none', forward: true}),
  ],
};

describe('a family of namespaces served by one service', () => {
  let stack;

  before(async () => {
    stack = await startStack({config: CONFIG, gateways: 2, echo: true});
    // The family's subscription goes with the others; wait until it answers.
    await until('the family to be served', async () => {
      const probe = await connect(stack.url, '/tenant-probe');
      try {
        await probe.rec.waitFor('hello', () => true, 500);
        return true;
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 15000);
  });

  after(async () => {
    closeAll();
    await stack.stop();
  });

  test("socket.nsp.emit reaches the tenant's sockets on every gateway and no other tenant", async () => {
    const first = await connect(stack.urls[0], '/tenant-a');
    await first.rec.waitFor('hello', (id) => id === first.id);
    const second = await connect(stack.urls[1], '/tenant-a');
    await first.rec.waitFor('hello', (id) => id === second.id);
    await second.rec.waitFor('hello', (id) => id === second.id);
    const other = await connect(stack.urls[1], '/tenant-b');
    await other.rec.waitFor('hello', (id) => id === other.id);
    // `other`'s hello went out after `second`'s; both tenant-a sockets have
    // had theirs, so a leak across tenants would be here by now.
    const third = await connect(stack.urls[0], '/tenant-a');
    await first.rec.waitFor('hello', (id) => id === third.id);
    await second.rec.waitFor('hello', (id) => id === third.id);
    for (const socket of [first, second]) {
      assert.deepEqual(socket.rec.received('hello').map((e) => e.args[0]).filter((id) => id === other.id), []);
    }
    assert.deepEqual(other.rec.received('hello').map((e) => e.args[0]), [other.id]);
  });
});
