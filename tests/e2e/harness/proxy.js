'use strict';
// A failover TCP proxy: each incoming connection goes to the first upstream
// (in the given order) that accepts it, which is what a load balancer's
// health check amounts to. When either side closes, so does the other, so a
// client behind it sees its gateway die as a transport close and, on
// reconnecting, lands on the first gateway that is alive. Bytes are piped
// untouched; no buffering beyond the sockets' own.

const net = require('node:net');

function failoverProxy(upstreamUrls) {
  const upstreams = upstreamUrls.map((u) => new URL(u));
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.pause();
    const tryUpstream = (i) => {
      if (i >= upstreams.length) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(upstreams[i].port), upstreams[i].hostname);
      upstream.once('error', () => {
        if (!upstream.connected) tryUpstream(i + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        upstream.connected = true;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryUpstream(0);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    });
  });
}

module.exports = {failoverProxy};
