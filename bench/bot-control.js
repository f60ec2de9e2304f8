#!/usr/bin/env node
/*
 * Issue 2 benchmarks, measured side by side in one run on this machine:
 *   1. a guarded endpoint's throughput over the same endpoint unguarded (target >= 0.95x):
 *      1a. the same request (with the secret) to both, so only the guard differs;
 *      1b. the unguarded side without the header, so the ratio also holds the cost of carrying it
 *   2. a signed request's throughput over an unsigned (shared-secret) one (target >= 0.85x)
 *   3. p50 latency of join through interface-proxy over join direct (target: +<= 1 ms)
 * Throughput pairs are measured twice, both sides loaded at once and then in
 * alternating rounds (bench/pairs.js says why), beside a control pair of two
 * identical servers that shows the run's noise floor; they also print each
 * server's CPU time per request (from /proc), so a ratio reads as µs a request.
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
const { startApp: start } = require('./apps');
const { alternatingPair, concurrentPair, describePair, median } = require('./pairs');
pinSelf();

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: SECONDS, connections: 10, pipelining: 1, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

/** requests answered by one load of `seconds` against opts, for bench/pairs.js. */
async function load(opts, seconds) {
  const r = await run({ ...opts, duration: seconds });
  if (r.non2xx || r.errors) throw new Error(`${opts.url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return r.requests.total;
}
/** A pair measured both ways (bench/pairs.js), printed as it goes. */
async function pair(label, a, b, nameA, nameB, target) {
  const opts = { rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, load };
  console.log(describePair(label, await concurrentPair(a, b, opts), nameA, nameB, target));
  console.log(describePair('    same pair', await alternatingPair(a, b, opts), nameA, nameB));
}

// A plain keep-alive http client: fetch's own per-request cost (several ms on this VM) would swamp the difference.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(url, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
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
  const pid = {};
  const up = async (app, env) => {
    const p = await start(app, env);
    procs.push(p.child);
    pid[p.url] = p.child.pid;
    return p.url;
  };
  try {
    const open = await up('bot-control', {});
    // Every pair is two server processes: the control's second side, and a second signing server.
    const open2 = await up('bot-control', {});
    const guarded = await up('bot-control', { BOT_CONTROL_SHARED_SECRET: SECRET, BOT_CONTROL_AUTH_REQUIRED: '1', BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1' });
    const signingEnv = { NATS_URL, BOT_CONTROL_SHARED_SECRET: SECRET, BOT_CONTROL_AUTH_REQUIRED: '1' };
    const signing = await up('bot-control', signingEnv);
    const unsigned = await up('bot-control', signingEnv);
    const proxy = await up('interface-proxy', { BOT_CONTROL_BASE_URL: open });
    const body = JSON.stringify({ room_url: ROOM });
    // One live bot per server: every join below takes the cheap "reused" path, and every
    // GET /sessions answers the same one-session list, so the sides of a pair do the same work.
    for (const base of [open, open2, guarded, signing, unsigned]) {
      await fetch(`${base}/join`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-bot-secret': SECRET }, body });
    }

    console.log(`bot-control benchmarks: ${ROUNDS} rounds x ${SECONDS}s a pair, measured at once and then in alternating rounds (bench/pairs.js), after ${WARMUP}s warm-up, 10 connections a side${pinned.describe()}\n`);

    const withSecret = { headers: { 'x-bot-secret': SECRET } };
    const side = (base, path, opts = {}) => ({ pid: pid[base], opts: { url: `${base}${path}`, ...opts } });
    await pair('0. control: GET /sessions on two identical unguarded servers', side(open, '/sessions', withSecret), side(open2, '/sessions', withSecret), 'first', 'second', 'ideal 1.000x');
    await pair('1a. GET /sessions guarded (shared secret) / unguarded, the same request', side(guarded, '/sessions', withSecret), side(open, '/sessions', withSecret), 'guarded', 'unguarded', '>= 0.95x');
    await pair('1b. GET /sessions guarded / unguarded without the header', side(guarded, '/sessions', withSecret), side(open, '/sessions'), 'guarded', 'unguarded');

    const json = { 'content-type': 'application/json' };
    await pair(
      '2. POST /join signed (HMAC + JetStream nonce) / unsigned (shared secret)',
      side(signing, '/join', {
        method: 'POST',
        body,
        headers: json,
        // A fresh timestamp and nonce per request, as a real signer sends.
        setupClient: (client) => {
          client.on('response', () => client.setHeaders({ ...json, ...signRequest(SECRET, { method: 'POST', pathWithQuery: '/join', body }) }));
          client.setHeaders({ ...json, ...signRequest(SECRET, { method: 'POST', pathWithQuery: '/join', body }) });
        },
      }),
      side(unsigned, '/join', { method: 'POST', body, headers: { ...json, 'x-bot-secret': SECRET } }),
      'signed',
      'unsigned',
      '>= 0.85x',
    );

    const viaProxy = [];
    const direct = [];
    await p50Sequential(`${proxy}/api/bot/join`, body, 500);
    await p50Sequential(`${open}/join`, body, 500);
    for (let i = 0; i < ROUNDS; i++) {
      viaProxy.push(await p50Sequential(`${proxy}/api/bot/join`, body, 400));
      direct.push(await p50Sequential(`${open}/join`, body, 400));
    }
    const pp = median(viaProxy);
    const dp = median(direct);
    console.log(`3. POST /join p50 through interface-proxy ${pp.toFixed(3)} ms vs direct ${dp.toFixed(3)} ms -> adds ${(pp - dp).toFixed(3)} ms (target <= 1 ms), ratio ${(pp / dp).toFixed(2)}x`);
  } finally {
    for (const c of procs) c.kill('SIGTERM');
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
