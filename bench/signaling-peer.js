'use strict';
/*
 * The worker half of bench/signaling.js, in its own process: a PSK worker reachable
 * through room-gateway's relay AND over a direct WebSocket, with the same code on both paths.
 */
const { WebSocket, WebSocketServer } = require('ws');
const path = require('node:path');
const { PskWorkerSession } = require(path.join(__dirname, '..', 'dist', 'libs', 'auth', 'src', 'psk'));

const { RELAY_URL, TOKEN, SECRET, ROOM_ID, WORKER_ID } = process.env;

/** One handler for both transports: `reply(to, data)` sends back over whichever carried the message. */
function worker(reply) {
  const sessions = new Map();
  return (from, data) => {
    let s = sessions.get(from);
    if (!s || data?.type === 'HELLO') {
      s?.dispose();
      s = new PskWorkerSession({
        secret: SECRET,
        binding: { roomId: ROOM_ID, workerId: WORKER_ID, clientId: from },
        send: (m) => reply(from, m),
        onDone: () => undefined,
      });
      sessions.set(from, s);
    }
    if (s.accept(data) && data.type === 'COMMAND')
      reply(from, { type: 'RESULT', id: data.id, ok: true, output: data.args?.[0] ?? '' });
  };
}

const relay = new WebSocket(RELAY_URL, { headers: { authorization: `Bearer ${TOKEN}` } });
const onRelay = worker((to, data) => relay.send(JSON.stringify({ type: 'signal', to, data })));
relay.on('message', (raw) => {
  const f = JSON.parse(raw.toString());
  if (f.type === 'welcome') ready();
  if (f.type === 'signal') onRelay(f.from, f.data);
});
relay.on('close', () => process.exit(0));

const direct = new WebSocketServer({ host: '127.0.0.1', port: 0 });
direct.on('connection', (ws) => {
  const onDirect = worker((to, data) => ws.send(JSON.stringify({ type: 'signal', from: WORKER_ID, data })));
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    onDirect(f.from, f.data);
  });
});

let waiting = 2;
function ready() {
  if (--waiting === 0) process.send({ directPort: direct.address().port });
}
direct.on('listening', ready);
process.on('disconnect', () => process.exit(0));
