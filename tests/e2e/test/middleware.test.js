'use strict';
// Namespace middleware in a native service (`middleware: required` in the
// gateway config, roomq::Namespace::Use; the example is roomq-echo's
// ServeAdmin, clients/examples/echo/echo_service.h), through the stock
// socket.io-client and two gateways:
//  - a CONNECT the middleware admits connects through either gateway with
//    the socket.data the middleware set (the service's `hello`), and the
//    service answers its events (`delete user` acked);
//  - a CONNECT it refuses gets connect_error "not authorized" with err.data;
//  - every outcome is counted in GET /metrics (roomq only);
//  - with no service there, a CONNECT is refused at --middleware-timeout-ms:
//    fail closed (roomq only: a Socket.IO middleware runs in-process).
// The same scenarios run against the npm socket.io reference server
// (E2E_TARGET=reference), whose /admin middleware is written as the
// Socket.IO guides write it (tests/e2e/reference/server.js).

const {describe, test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ackAll, closeAll, connect, connectError, untilConnects} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: a Socket.IO middleware is in-process' : false;
const CONFIG = {
  namespaces: [
    ns('/', {join: '', relay: 'none', forward: true}),
    ns('/admin', {join: '', relay: 'none', forward: true, middleware: 'required'}),
  ],
};

describe('service middleware', () => {
  let stack;

  before(async () => {
    stack = await startStack({config: CONFIG, gateways: 2, echo: true});
    // The service answers /admin once its subscription there is confirmed too.
    await untilConnects(stack.url, '/admin', {auth: {role: 'admin'}});
  });

  after(async () => {
    closeAll();
    await stack.stop();
  });

  test('an admitted socket connects through either gateway with its socket.data', async () => {
    for (const url of stack.urls) {
      const socket = await connect(url, '/admin', {auth: {role: 'admin', user: 'ann'}});
      const [data] = await socket.rec.waitFor('hello');
      assert.deepEqual(data, {role: 'admin', user: 'ann'});
      assert.deepEqual(await ackAll(socket, 'delete user', 42), ['deleted', 42]);
      socket.disconnect();
    }
  });

  test('a refused socket gets connect_error with the message and the data', async () => {
    for (const url of stack.urls) {
      const err = await connectError(url, '/admin', {auth: {role: 'user'}});
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, {role: 'user'});
    }
    const anonymous = await connectError(stack.url, '/admin');
    assert.equal(anonymous.message, 'not authorized');
    assert.deepEqual(anonymous.data, {role: null});
  });

  test('every outcome is counted', {skip: ROOMQ_ONLY}, async () => {
    const text = await (await fetch(stack.metricsUrl(stack.urls[1]))).text();
    assert.match(text, /^roomq_gateway_middleware_total\{outcome="admitted"\} [1-9]/m);
    assert.match(text, /^roomq_gateway_middleware_total\{outcome="refused"\} [1-9]/m);
  });
});

describe('service middleware without a service', {skip: ROOMQ_ONLY}, () => {
  test('a CONNECT is refused at the middleware timeout', async () => {
    const stack = await startStack({config: CONFIG, gatewayFlags: ['--middleware-timeout-ms', '300']});
    try {
      const err = await connectError(stack.url, '/admin', {auth: {role: 'admin'}});
      assert.equal(err.message, 'middleware timeout');
      const text = await (await fetch(stack.metricsUrl())).text();
      assert.match(text, /^roomq_gateway_middleware_total\{outcome="timeout"\} 1$/m);
    } finally {
      closeAll();
      await stack.stop();
    }
  });
});
