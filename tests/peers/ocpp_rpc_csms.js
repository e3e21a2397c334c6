// A CSMS built on the npm package ocpp-rpc, in strictMode: it validates every inbound
// call and outbound response against the OCPP JSON schemas it ships.
//
// Usage: node ocpp_rpc_csms.js '{"protocols":["ocpp1.6"],"bootStatus":"Accepted",
//                                "callFirst":0,"password":null}'
// Prints one JSON object per line on stdout: {"event":"listening","port":N} first,
// then what it observed. Exits when stdin closes, so it never outlives its test.
// Answers "sync N" lines on stdin (see the end of this file).
'use strict';
const { RPCServer } = require('ocpp-rpc');

const config = Object.assign(
  { protocols: ['ocpp1.6', 'ocpp2.0.1'], bootStatus: 'Accepted', callFirst: 0, password: null },
  JSON.parse(process.argv[2] || '{}'),
);
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n');

const server = new RPCServer({ protocols: config.protocols, strictMode: true });

server.auth((accept, reject, handshake) => {
  const given = handshake.password ? handshake.password.toString('utf8') : null;
  report({ event: 'auth', identity: handshake.identity, password_given: given !== null });
  if (config.password !== null && given !== config.password) {
    reject(401, 'bad credentials');
    return;
  }
  accept();
});

server.on('client', (client) => {
  report({ event: 'client', identity: client.identity, protocol: client.protocol });
  client.on('strictValidationFailure', (failure) => {
    report({ event: 'strictValidationFailure', message: String(failure.error && failure.error.message) });
  });
  let calledFirst = Promise.resolve();
  if (config.callFirst > 0) {
    const method = client.protocol === 'ocpp1.6' ? 'GetConfiguration' : 'GetBaseReport';
    const params = client.protocol === 'ocpp1.6' ? {} : { requestId: 1, reportBase: 'FullInventory' };
    calledFirst = (async () => {
      for (let i = 0; i < config.callFirst; i++) {
        try {
          await client.call(method, params);
          report({ event: 'callFirstResult' });
        } catch (err) {
          report({ event: 'callFirstError', code: err.rpcErrorCode || err.name });
        }
      }
    })();
  }
  client.handle('BootNotification', async ({ params }) => {
    report({ event: 'boot', params });
    await calledFirst;
    return { status: config.bootStatus, interval: 300, currentTime: new Date().toISOString() };
  });
  client.handle('Heartbeat', () => {
    report({ event: 'heartbeat' });
    return { currentTime: new Date().toISOString() };
  });
  client.on('close', ({ code }) => report({ event: 'close', code }));
});

(async () => {
  const http = await server.listen(0, '127.0.0.1');
  report({ event: 'listening', port: http.address().port });
})();

// A line "sync N" on stdin is answered with {"event":"synced","n":N}. Every event line
// printed before it is then in the pipe ahead of it (a write to a pipe is synchronous on
// Linux), so a test that waits for the answer has read them all.
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.startsWith('sync ')) report({ event: 'synced', n: Number(line.slice(5)) });
  }
});
process.stdin.on('end', () => process.exit(0));
