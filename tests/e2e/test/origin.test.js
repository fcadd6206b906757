'use strict';
// The Origin allow-list (--cors-origin) on both transports: a request whose
// Origin header is not listed is refused with 403 {"code":4,"message":
// "Forbidden"} — the polling handshake, a WebSocket upgrade of a polling
// session, and a direct WebSocket connection without polling first — while
// a listed Origin (and no Origin at all: non-browser clients) works. Each
// refusal is counted in GET /metrics (refusals_total{limit="origin"}) and
// logged.
// roomq only: the Socket.IO reference server's `cors` option sets headers
// but refuses nothing (that would take an allowRequest hook).

const {describe, test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const WebSocket = require('ws');
const {startStack, TARGET} = require('../harness/stack');
const {closeAll, connect, connectError, withTimeout} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: the reference server does not refuse by Origin' : false;
const ALLOWED = 'http://allowed.example';
const ALSO_ALLOWED = 'https://also.example:8443';
const EVIL = 'http://evil.example';

let stack;
before(async () => {
  if (ROOMQ_ONLY) return;
  stack = await startStack({gatewayFlags: ['--cors-origin', ALLOWED, '--cors-origin', ALSO_ALLOWED]});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

// A raw HTTP GET; resolves {status, headers, body}.
function get(pathAndQuery, origin) {
  const url = new URL(pathAndQuery, stack.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: 'GET', headers: origin ? {origin} : {}}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body}));
    });
    req.on('error', reject);
    req.end();
  });
}

// Opens a raw Engine.IO WebSocket; resolves {opened: first message} or
// {status, body} when the server answered the upgrade with an HTTP error.
function websocket(query, origin) {
  const url = stack.url.replace(/^http/, 'ws') + `/socket.io/?EIO=4&transport=websocket${query}`;
  const ws = new WebSocket(url, origin ? {origin} : {});
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      resolve({opened: data.toString()});
      ws.terminate();
    });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({status: res.statusCode, body}));
    });
    ws.once('error', reject);
  }), 5000, `websocket ${query} with Origin ${origin}`);
}

async function originRefusals() {
  const res = await fetch(stack.metricsUrl());
  assert.equal(res.status, 200);
  const m = /^roomq_gateway_refusals_total\{limit="origin"\} (\d+)$/m.exec(await res.text());
  assert.ok(m, 'refusals_total{limit="origin"} is exported');
  return Number(m[1]);
}

const FORBIDDEN = {code: 4, message: 'Forbidden'};

describe('origin allow-list', {skip: ROOMQ_ONLY}, () => {
  test('polling handshake: a listed Origin works, another is refused 403', async () => {
    const before = await originRefusals();
    const ok = await get('/socket.io/?EIO=4&transport=polling', ALLOWED);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^0\{"sid":/);
    assert.equal(ok.headers['access-control-allow-origin'], ALLOWED);
    const also = await get('/socket.io/?EIO=4&transport=polling', ALSO_ALLOWED);
    assert.equal(also.status, 200);

    const evil = await get('/socket.io/?EIO=4&transport=polling', EVIL);
    assert.equal(evil.status, 403);
    assert.deepEqual(JSON.parse(evil.body), FORBIDDEN);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    // Near misses are not listed origins either.
    for (const origin of ['http://allowed.example.evil.example', 'https://allowed.example', 'null',
                          'http://ALLOWED.example:80']) {
      assert.equal((await get('/socket.io/?EIO=4&transport=polling', origin)).status, 403, origin);
    }
    // A later request of an existing session from another Origin.
    const sid = JSON.parse(ok.body.slice(1)).sid;
    const hijack = await get(`/socket.io/?EIO=4&transport=polling&sid=${sid}`, EVIL);
    assert.equal(hijack.status, 403);
    // Non-browser clients send no Origin.
    assert.equal((await get('/socket.io/?EIO=4&transport=polling')).status, 200);
    assert.equal(await originRefusals() - before, 6);
  });

  test('direct websocket (no polling first): a listed Origin works, another is refused 403', async () => {
    const before = await originRefusals();
    const ok = await websocket('', ALLOWED);
    assert.match(ok.opened, /^0\{"sid":/);
    const evil = await websocket('', EVIL);
    assert.equal(evil.status, 403);
    assert.deepEqual(JSON.parse(evil.body), FORBIDDEN);
    assert.match((await websocket('')).opened, /^0\{"sid":/, 'no Origin: allowed');
    assert.equal(await originRefusals() - before, 1);
    await stack.gateways[0].waitForLine(/websocket request from Origin 'http:\/\/evil\.example' refused/);
  });

  test('websocket upgrade of a polling session from another Origin is refused', async () => {
    const before = await originRefusals();
    const handshake = await get('/socket.io/?EIO=4&transport=polling', ALLOWED);
    const sid = JSON.parse(handshake.body.slice(1)).sid;
    const evil = await websocket(`&sid=${sid}`, EVIL);
    assert.equal(evil.status, 403);
    assert.equal(await originRefusals() - before, 1);
  });

  test('the stock client connects from a listed Origin and is refused from another', async () => {
    for (const transport of ['polling', 'websocket']) {
      const socket = await connect(stack.url, '/', {transports: [transport], extraHeaders: {origin: ALLOWED}});
      assert.ok(socket.connected, transport);
      const err = await connectError(stack.url, '/', {transports: [transport], extraHeaders: {origin: EVIL}});
      assert.ok(err instanceof Error, transport);
    }
    await stack.gateways[0].waitForLine(/polling request from Origin 'http:\/\/evil\.example' refused/);
  });
});
