#!/usr/bin/env node
/*
 * bot-control benchmarks, measured side by side in one run on this machine:
 *   1. a guarded endpoint's throughput over the same endpoint unguarded (target >= 0.95x):
 *      GET /sessions behind the shared secret against GET /open/sessions, the same handler
 *      marked @Public() (bench/bot-control-server.js), so one process serves both;
 *      1a. the same request (with the secret) to both, so only the guard differs;
 *      1b. the unguarded side without the header, so the ratio also holds the cost of carrying it
 *      1c. the unguarded route plus only the required secret comparison (digest and
 *          timingSafeEqual, no count or audit event) over the unguarded route: a floor for 1a
 *   2. a signed request's throughput over an unsigned (shared-secret) one (target >= 0.85x)
 *   3. p50 latency of join through interface-proxy over join direct (target: +<= 1 ms)
 * Throughput pairs are crossed over two servers, both sides loaded at once, and
 * then measured in alternating rounds on one server (bench/pairs.js says why),
 * after a control pair that shows how far the two servers' own speeds differ;
 * they also print each side's server CPU time per request (from /proc), so a
 * ratio reads as µs a request.
 * Prints numbers and ratios; asserts nothing. Needs `npm run build` and NATS
 * (NATS_URL, default nats://127.0.0.1:4222) for the shared nonce store.
 *
 *   node bench/bot-control.js           BENCH_SECONDS=2 node bench/bot-control.js
 */
'use strict';
const http = require('node:http');
const autocannon = require('autocannon');
const { signRequest } = require('../dist/libs/auth/src');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
// Unmeasured load first, so both sides are measured with their code paths compiled by the JIT.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SECRET = require('node:crypto').randomBytes(32).toString('hex');
const ROOM = 'https://bench.daily.co/room';

const { pinSelf, pinned } = require('./pinning');
const { startApp, startScript } = require('./apps');
const { median, printPair } = require('./pairs');
pinSelf();
const SERVER = require.resolve('./bot-control-server');

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: SECONDS, connections: 10, pipelining: 1, ...opts }, (err, r) =>
      err ? reject(err) : resolve(r),
    );
  });
}

/** requests answered by one load of `seconds` against opts, for bench/pairs.js. */
async function load(opts, seconds) {
  const r = await run({ ...opts, duration: seconds });
  if (r.non2xx || r.errors) throw new Error(`${opts.url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return r.requests.total;
}
// A plain keep-alive http client: fetch's own per-request cost (several ms on this VM) would swamp the difference.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(url, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** p50 of sequential requests, measured with hrtime for sub-millisecond resolution. */
async function p50Sequential(url, body, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await post(url, body);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(n / 2)];
}

(async () => {
  const procs = [];
  const up = async (started) => {
    procs.push(started.child);
    return { pid: started.child.pid, url: started.url };
  };
  try {
    // Part 3's upstream: the app as it ships, open.
    const open = await up(await startApp('bot-control', {}));
    const guardedEnv = {
      BOT_CONTROL_SHARED_SECRET: SECRET,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
    };
    const guarded = [await up(await startScript(SERVER, guardedEnv)), await up(await startScript(SERVER, guardedEnv))];
    const signingEnv = { NATS_URL, BOT_CONTROL_SHARED_SECRET: SECRET, BOT_CONTROL_AUTH_REQUIRED: '1' };
    const signing = [
      await up(await startApp('bot-control', signingEnv)),
      await up(await startApp('bot-control', signingEnv)),
    ];
    const proxy = await up(await startApp('interface-proxy', { BOT_CONTROL_BASE_URL: open.url }));
    const body = JSON.stringify({ room_url: ROOM });
    // One live bot per server: every join below takes the cheap "reused" path, and every
    // GET /sessions answers the same one-session list.
    for (const s of [open, ...guarded, ...signing]) {
      await fetch(`${s.url}/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-bot-secret': SECRET },
        body,
      });
    }

    console.log(
      `bot-control benchmarks: ${ROUNDS} rounds x ${SECONDS}s a side, crossed over two servers loaded at once and then alternating on one (bench/pairs.js), after ${WARMUP}s warm-up, 10 connections a side${pinned.describe()}\n`,
    );

    const withSecret = { headers: { 'x-bot-secret': SECRET } };
    const route =
      (path, opts = {}) =>
      (s) => ({ url: `${s.url}${path}`, ...opts });
    const pairOpts = { rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, load };
    const pair = (label, servers, sideA, sideB, nameA, nameB, target) =>
      printPair(label, servers, sideA, sideB, [nameA, nameB], target, pairOpts);
    await pair(
      '0. control: GET /open/sessions against itself',
      guarded,
      route('/open/sessions', withSecret),
      route('/open/sessions', withSecret),
      'first',
      'second',
      'ideal 1.000x',
    );
    await pair(
      '1a. GET /sessions guarded (shared secret) / unguarded, the same request',
      guarded,
      route('/sessions', withSecret),
      route('/open/sessions', withSecret),
      'guarded',
      'unguarded',
      '>= 0.95x',
    );
    await pair(
      '1b. GET /sessions guarded / unguarded without the header',
      guarded,
      route('/sessions', withSecret),
      route('/open/sessions'),
      'guarded',
      'unguarded',
    );
    await pair(
      '1c. floor: GET /open/sessions with only the digest comparison of the secret / without',
      guarded,
      route('/open/sessions/checked', withSecret),
      route('/open/sessions', withSecret),
      'compared',
      'unguarded',
    );

    const json = { 'content-type': 'application/json' };
    const sign = () => ({ ...json, ...signRequest(SECRET, { method: 'POST', pathWithQuery: '/join', body }) });
    await pair(
      '2. POST /join signed (HMAC + JetStream nonce) / unsigned (shared secret)',
      signing,
      route('/join', {
        method: 'POST',
        body,
        headers: json,
        // A fresh timestamp and nonce per request, as a real signer sends.
        setupClient: (client) => {
          client.on('response', () => client.setHeaders(sign()));
          client.setHeaders(sign());
        },
      }),
      route('/join', { method: 'POST', body, headers: { ...json, 'x-bot-secret': SECRET } }),
      'signed',
      'unsigned',
      '>= 0.85x',
    );

    const viaProxy = [];
    const direct = [];
    await p50Sequential(`${proxy.url}/api/bot/join`, body, 500);
    await p50Sequential(`${open.url}/join`, body, 500);
    for (let i = 0; i < ROUNDS; i++) {
      viaProxy.push(await p50Sequential(`${proxy.url}/api/bot/join`, body, 400));
      direct.push(await p50Sequential(`${open.url}/join`, body, 400));
    }
    const pp = median(viaProxy);
    const dp = median(direct);
    console.log(
      `3. POST /join p50 through interface-proxy ${pp.toFixed(3)} ms vs direct ${dp.toFixed(3)} ms -> adds ${(pp - dp).toFixed(3)} ms (target <= 1 ms), ratio ${(pp / dp).toFixed(2)}x`,
    );
  } finally {
    for (const c of procs) c.kill('SIGTERM');
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
