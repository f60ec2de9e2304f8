#!/usr/bin/env node
/*
 * Signaling rooms, side by side in one bounded run, between the same two processes
 * (this one as the client, bench/signaling-peer.js as the worker):
 *   - PSK challenge-response handshakes per second through room-gateway's relay vs a direct WebSocket
 *   - per-message round trip, relay vs direct, and the relay's added latency per message
 * Prints numbers and ratios; asserts nothing. Needs `npm run build`, Postgres and NATS:
 *
 *   npm run build && node bench/signaling.js      # ~20 s; BENCH_SECONDS (default 3) per phase
 * room-gateway runs in this (the client's) process, so the relay hop shares its event loop: the added
 * latency printed is an upper bound of what a separate relay process adds.
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres NATS_URL=nats://127.0.0.1:4222
 */
'use strict';
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { Writable } = require('node:stream');
const { WebSocket } = require('ws');
require('reflect-metadata');

const dist = path.join(__dirname, '..', 'dist');
const { DataSource } = require('typeorm');
const { loadDeviceAuthConfig, startDeviceAuth } = require(path.join(dist, 'apps', 'device-auth', 'src'));
const { loadRoomGatewayConfig, startRoomGateway } = require(path.join(dist, 'apps', 'room-gateway', 'src'));
const { PskClientSession } = require(path.join(dist, 'libs', 'auth', 'src', 'psk'));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = randomBytes(32).toString('hex');
const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });

async function sql(url, q) {
  const ds = await new DataSource({ type: 'postgres', url, extra: { max: 1 } }).initialize();
  try {
    return await ds.query(q);
  } finally {
    await ds.destroy();
  }
}

async function json(method, url, body, headers = {}) {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const b = await r.json();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(b)}`);
  return b;
}

/** A request/response channel over one socket; `wrap` shapes the outgoing frame for relay or direct. */
function channel(ws, wrap) {
  let waiter;
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    if (f.type === 'signal' && waiter) waiter(f.data);
  });
  return {
    send: (data) => ws.send(JSON.stringify(wrap(data))),
    set onData(fn) {
      waiter = fn;
    },
  };
}

function handshake(ch, binding) {
  return new Promise((resolve, reject) => {
    const s = new PskClientSession({
      secret: SECRET,
      binding,
      send: (m) => ch.send(m),
      onDone: (o) => (o.ok ? resolve() : reject(new Error(o.reason))),
    });
    ch.onData = (d) => s.accept(d);
    s.start();
  });
}

async function handshakesPerSecond(ch, binding) {
  const until = Date.now() + SECONDS * 1000;
  let n = 0;
  while (Date.now() < until) {
    await handshake(ch, binding);
    n++;
  }
  return n / SECONDS;
}

async function roundTrips(ch, binding) {
  await handshake(ch, binding);
  const samples = [];
  const until = Date.now() + SECONDS * 1000;
  let id = 0;
  while (Date.now() < until) {
    const t = process.hrtime.bigint();
    await new Promise((resolve) => {
      ch.onData = (d) => d.type === 'RESULT' && resolve();
      ch.send({ type: 'COMMAND', id: String(++id), job: 'echo', args: ['x'] });
    });
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))];
  return { n: samples.length, p50: q(0.5), p99: q(0.99) };
}

function open(url, headers) {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve(ws));
  });
}

async function main() {
  const db = `pc_bench_signaling_${randomBytes(4).toString('hex')}`;
  await sql(DATABASE_URL, `CREATE DATABASE ${db}`);
  const u = new URL(DATABASE_URL);
  u.pathname = `/${db}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pc-bench-sig-'));
  const adminKey = randomBytes(32).toString('hex');
  const issuer = `pc-bench-${randomBytes(4).toString('hex')}`;
  const bucket = `pc_bench_${randomBytes(4).toString('hex')}`;
  const apps = [];
  let peer;
  try {
    const da = await startDeviceAuth(
      loadDeviceAuthConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        DATABASE_URL: u.toString(),
        NATS_URL,
        PORTCULLIS_DATA_DIR: dataDir,
        PORTCULLIS_ADMIN_API_KEY: adminKey,
        DEVICE_AUTH_ISSUER: issuer,
        DEVICE_AUTH_RATE_LIMIT_BUCKET: bucket,
      }),
      { logStream: quiet() },
    );
    apps.push(da);
    const daUrl = (await da.getUrl()).replace('[::1]', '127.0.0.1');
    const gw = await startRoomGateway(
      loadRoomGatewayConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        NATS_URL,
        DATABASE_URL: u.toString(),
        DEVICE_AUTH_URL: daUrl,
        DEVICE_AUTH_ISSUER: issuer,
        ROOM_TOKEN_SIGNING_KEY: randomBytes(32).toString('hex'),
      }),
      { logStream: quiet() },
    );
    apps.push(gw);
    const gwUrl = (await gw.getUrl()).replace('[::1]', '127.0.0.1');
    const device = async (id) => {
      const d = await json(
        'POST',
        `${daUrl}/admin/devices`,
        { device_id: id, customer_id: 'bench', name: id },
        { 'x-portcullis-api-key': adminKey },
      );
      return {
        id,
        token: (await json('POST', `${daUrl}/device/auth`, { device_id: id, device_secret: d.device_secret }))
          .access_token,
      };
    };
    const [owner, w, c] = await Promise.all([device('bench_owner'), device('bench_worker'), device('bench_client')]);
    const bearer = (d) => ({ authorization: `Bearer ${d.token}` });
    let room;
    for (let i = 0; ; i++) {
      try {
        room = await json('POST', `${gwUrl}/signaling/rooms`, {}, bearer(owner));
        break;
      } catch (err) {
        if (i > 50) throw err; // the verifier waits for its first revocation snapshot
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const [d, role] of [
      [w, 'worker'],
      [c, 'client'],
    ]) {
      const inv = await json('POST', `${gwUrl}/signaling/rooms/${room.room_id}/tokens`, { role }, bearer(owner));
      await json('POST', `${gwUrl}/signaling/rooms/join`, { room_token: inv.room_token }, bearer(d));
    }
    const wsUrl = `${gwUrl.replace(/^http/, 'ws')}/signaling/rooms/${room.room_id}/ws`;
    peer = fork(path.join(__dirname, 'signaling-peer.js'), [], {
      env: { ...process.env, RELAY_URL: wsUrl, TOKEN: w.token, SECRET, ROOM_ID: room.room_id, WORKER_ID: w.id },
    });
    const { directPort } = await new Promise((r) => peer.once('message', r));
    const relayWs = await open(wsUrl, bearer(c));
    const directWs = await open(`ws://127.0.0.1:${directPort}`);
    const relay = channel(relayWs, (data) => ({ type: 'signal', to: w.id, data }));
    const direct = channel(directWs, (data) => ({ type: 'signal', from: c.id, data }));
    const binding = { roomId: room.room_id, workerId: w.id, clientId: c.id };
    await roundTrips(relay, binding); // warm-up
    await roundTrips(direct, binding);
    const hsRelay = await handshakesPerSecond(relay, binding);
    const hsDirect = await handshakesPerSecond(direct, binding);
    const rtRelay = await roundTrips(relay, binding);
    const rtDirect = await roundTrips(direct, binding);
    const f = (x) => x.toFixed(3);
    console.log(`\nsignaling rooms, ${SECONDS} s per phase, client here, worker in another process\n`);
    console.log('                               relay       direct WS   relay/direct');
    console.log(
      `PSK handshakes/s               ${hsRelay.toFixed(0).padEnd(12)}${hsDirect.toFixed(0).padEnd(12)}${(hsRelay / hsDirect).toFixed(2)}`,
    );
    console.log(
      `round trip p50 (ms)            ${f(rtRelay.p50).padEnd(12)}${f(rtDirect.p50).padEnd(12)}${(rtRelay.p50 / rtDirect.p50).toFixed(2)}`,
    );
    console.log(
      `round trip p99 (ms)            ${f(rtRelay.p99).padEnd(12)}${f(rtDirect.p99).padEnd(12)}${(rtRelay.p99 / rtDirect.p99).toFixed(2)}`,
    );
    console.log(
      `relay added latency per message (one way, p50): ${f((rtRelay.p50 - rtDirect.p50) / 2)} ms  (${rtRelay.n} / ${rtDirect.n} round trips)`,
    );
    relayWs.close();
    directWs.close();
  } finally {
    peer?.kill();
    for (const a of apps.reverse()) await a.close();
    await sql(DATABASE_URL, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    const nc = await require('nats').connect({ servers: NATS_URL });
    await (await nc.jetstreamManager()).streams.delete(`KV_${bucket}`).catch(() => false);
    await nc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
