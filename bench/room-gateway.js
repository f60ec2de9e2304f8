#!/usr/bin/env node
/*
 * Room creation through room-gateway vs calling the (local, fake) provider
 * directly, side by side in one run: the gateway's added latency at p50
 * (target: <= 1 ms). Prints numbers and ratios; asserts nothing.
 *
 *   node bench/room-gateway.js            # ~40 s; NATS_URL (default nats://127.0.0.1:4222) for the shared limiter
 *   BENCH_SECONDS=2 node bench/room-gateway.js
 *
 * Needs `npm run build`: the gateway runs as its own process (dist/apps/room-gateway), so it
 * does not share an event loop with the load generator.
 */
'use strict';
const autocannon = require('autocannon');

const { spawn } = require('node:child_process');
const { SERVER_CPU, pinSelf, pinned } = require('./pinning');
const { startApp } = require('./apps');
// The load generator runs here, on one core; the gateway and the fake provider on the other.
pinSelf();

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1);
const KEY = 'bench-daily-key-0123456789abcdef';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * The fake Daily runs as its own process too, so "direct" crosses a process
 * boundary once, as the gateway's upstream call does, and is not a call a
 * process makes to itself.
 */
const FAKE_DAILY = `
const KEY = process.env.KEY;
const room = JSON.stringify({ id: 'id-bench', name: 'bench', privacy: 'public', url: 'https://example.daily.co/bench', created_at: '2026-01-01T00:00:00.000Z', config: {} });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.headers.authorization !== 'Bearer ' + KEY) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"authentication-error"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(room);
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

function fakeDaily() {
  const child = spawn(...pinned(SERVER_CPU, [process.execPath, '-e', FAKE_DAILY]), {
    env: { PATH: process.env.PATH, KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, url: `http://127.0.0.1:${String(d).trim()}` }));
  });
}

async function natsUp() {
  try {
    const { connect } = require('nats');
    const nc = await connect({ servers: NATS_URL, timeout: 1000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Request logs are written as in production (info, to a discarded stdout). */
function gateway(dailyUrl, natsUrl) {
  return startApp('room-gateway', {
    LOG_LEVEL: 'info',
    DAILY_API_BASE_URL: `${dailyUrl}/v1`,
    ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '1000000',
    ROOM_GATEWAY_RATE_LIMIT_PER_IP: '1000000',
    ...(natsUrl ? { NATS_URL: natsUrl } : {}),
  });
}

/** autocannon's histogram keeps whole milliseconds; the per-response times it emits are exact. */
function run(url, body) {
  return new Promise((resolve, reject) => {
    const times = [];
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: SECONDS,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${KEY}`,
          'x-provider-auth': `Bearer ${KEY}`,
        },
        body: JSON.stringify(body),
      },
      (err, res) => (err ? reject(err) : resolve({ ...res, times })),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
}

const pct = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const fmt = (n) => n.toFixed(3);

async function main() {
  const daily = await fakeDaily();
  const targets = [
    { name: 'direct', url: `${daily.url}/v1/rooms`, body: { privacy: 'public', properties: { enable_chat: true } } },
  ];
  const gwMem = await gateway(daily.url, undefined);
  targets.push({
    name: 'gateway (in-memory limits)',
    url: `${gwMem.url}/api/rooms/create`,
    body: { profile: 'conversation' },
    child: gwMem.child,
  });
  if (await natsUp()) {
    const gwNats = await gateway(daily.url, NATS_URL);
    targets.push({
      name: 'gateway (NATS-shared limits)',
      url: `${gwNats.url}/api/rooms/create`,
      body: { profile: 'conversation' },
      child: gwNats.child,
    });
  } else {
    console.log(`NATS not reachable at ${NATS_URL}: skipping the shared-limiter variant`);
  }
  // Warm up (JIT, keep-alive sockets, the KV bucket).
  for (const t of targets)
    await new Promise((r) =>
      autocannon(
        {
          url: t.url,
          method: 'POST',
          duration: 1,
          connections: CONNECTIONS,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${KEY}`,
            'x-provider-auth': `Bearer ${KEY}`,
          },
          body: JSON.stringify(t.body),
        },
        r,
      ),
    );

  const results = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const r = await run(t.url, t.body);
      if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      results[t.name].push(r);
    }
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p50 = (name) => median(results[name].map((r) => pct(r.times, 50)));
  const p99 = (name) => median(results[name].map((r) => pct(r.times, 99)));
  const rps = (name) => median(results[name].map((r) => r.requests.average));
  console.log(
    `\nroom create, ${CONNECTIONS} connection(s), ${ROUNDS} x ${SECONDS} s per target, interleaved${pinned.describe()}\n`,
  );
  console.log('target                          p50 ms   p99 ms    req/s   p50 added ms   p50 ratio   throughput ratio');
  for (const t of targets) {
    const added = p50(t.name) - p50('direct');
    console.log(
      `${t.name.padEnd(30)} ${fmt(p50(t.name)).padStart(7)} ${fmt(p99(t.name)).padStart(8)} ${rps(t.name).toFixed(0).padStart(8)}` +
        `   ${fmt(added).padStart(12)}   ${(p50(t.name) / p50('direct')).toFixed(2).padStart(9)}   ${(rps(t.name) / rps('direct')).toFixed(2).padStart(16)}`,
    );
  }
  console.log('\ntarget: the gateway adds <= 1 ms at p50');
  for (const t of targets) if (t.child) t.child.kill('SIGTERM');
  daily.child.kill('SIGTERM');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
