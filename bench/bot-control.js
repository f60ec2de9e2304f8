#!/usr/bin/env node
/*
 * Issue 2 benchmarks, measured side by side in one run on this machine:
 *   1. a guarded endpoint's throughput over the same endpoint unguarded (target >= 0.95x)
 *   2. a signed request's throughput over an unsigned (shared-secret) one (target >= 0.85x)
 *   3. p50 latency of join through interface-proxy over join direct (target: +<= 1 ms)
 * Each pair alternates over several rounds so machine noise hits both sides alike.
 * Throughput pairs also print each server's CPU time per request (from /proc),
 * so a ratio can be read as microseconds a request.
 * Prints numbers and ratios; asserts nothing. Needs `npm run build` and NATS
 * (NATS_URL, default nats://127.0.0.1:4222) for the shared nonce store.
 *
 *   node bench/bot-control.js           BENCH_SECONDS=2 node bench/bot-control.js
 */
'use strict';
const fs = require('node:fs');
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
pinSelf();

function run({ pid: _pid, ...opts }) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: SECONDS, connections: 10, pipelining: 1, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

/**
 * CPU time (user + system) a server process has used so far, in µs, from
 * /proc (Linux); undefined elsewhere. Divided by the requests of a round it is
 * what one request cost that process, which throughput alone mixes with how
 * often the load generator's core had to be woken.
 */
function cpuMicros(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

/** One round against a: requests and the server's CPU µs per request (when a.pid is known). */
async function measured(a) {
  const before = a.pid && cpuMicros(a.pid);
  const r = await run(a);
  const after = a.pid && cpuMicros(a.pid);
  r.cpuPerRequest = before !== undefined && after !== undefined ? (after - before) / Math.max(1, r.requests.total) : undefined;
  return r;
}

/** Alternates a and b for ROUNDS rounds; returns mean throughput, the median of the per-round ratios, and median p50s. */
async function sideBySide(a, b) {
  if (WARMUP > 0) {
    await run({ ...a, duration: WARMUP });
    await run({ ...b, duration: WARMUP });
  }
  const out = { a: [], b: [] };
  for (let i = 0; i < ROUNDS; i++) {
    out.a.push(await measured(a));
    out.b.push(await measured(b));
  }
  const sum = (rs, f) => rs.reduce((t, r) => t + f(r), 0);
  const med = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const errs = (rs) => sum(rs, (r) => r.non2xx + r.errors);
  return {
    ratio: med(out.a.map((r, i) => r.requests.average / out.b[i].requests.average)),
    rpsA: sum(out.a, (r) => r.requests.average) / ROUNDS,
    rpsB: sum(out.b, (r) => r.requests.average) / ROUNDS,
    p50A: med(out.a.map((r) => r.latency.p50)),
    p50B: med(out.b.map((r) => r.latency.p50)),
    cpuA: out.a[0].cpuPerRequest === undefined ? undefined : med(out.a.map((r) => r.cpuPerRequest)),
    cpuB: out.b[0].cpuPerRequest === undefined ? undefined : med(out.b.map((r) => r.cpuPerRequest)),
    errors: errs(out.a) + errs(out.b),
  };
}

/** The server-CPU view of a pair: µs per request each side, and what the first side adds. */
function cpuLine(r, a, b) {
  if (r.cpuA === undefined || r.cpuB === undefined) return '   (server CPU per request: not available without /proc)';
  const extra = r.cpuA - r.cpuB;
  return `   server CPU per request: ${a} ${r.cpuA.toFixed(1)} µs, ${b} ${r.cpuB.toFixed(1)} µs (${extra >= 0 ? '+' : ''}${extra.toFixed(1)} µs, ratio ${(r.cpuB / r.cpuA).toFixed(3)}x)`;
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
    const guarded = await up('bot-control', { BOT_CONTROL_SHARED_SECRET: SECRET, BOT_CONTROL_AUTH_REQUIRED: '1', BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1' });
    const signing = await up('bot-control', { NATS_URL, BOT_CONTROL_SHARED_SECRET: SECRET, BOT_CONTROL_AUTH_REQUIRED: '1' });
    const proxy = await up('interface-proxy', { BOT_CONTROL_BASE_URL: open });
    const body = JSON.stringify({ room_url: ROOM });
    // One live bot per room, so every join below takes the cheap "reused" path.
    for (const base of [open, signing]) {
      await fetch(`${base}/join`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-bot-secret': SECRET }, body });
    }

    console.log(`bot-control benchmarks: ${ROUNDS} rounds x ${SECONDS}s per side after ${WARMUP}s warm-up, 10 connections${pinned.describe()}\n`);

    const g = await sideBySide(
      { url: `${guarded}/sessions`, headers: { 'x-bot-secret': SECRET }, pid: pid[guarded] },
      { url: `${open}/sessions`, pid: pid[open] },
    );
    console.log(`1. GET /sessions guarded (shared secret) ${g.rpsA.toFixed(0)} req/s vs unguarded ${g.rpsB.toFixed(0)} req/s -> ratio ${g.ratio.toFixed(3)}x (median of rounds; target >= 0.95x)`);
    console.log(cpuLine(g, 'guarded', 'unguarded'));

    const postJoin = { method: 'POST', body, headers: { 'content-type': 'application/json' } };
    const s = await sideBySide(
      {
        url: `${signing}/join`,
        pid: pid[signing],
        ...postJoin,
        // A fresh timestamp and nonce per request, as a real signer sends.
        setupClient: (client) => {
          client.on('response', () => client.setHeaders({ 'content-type': 'application/json', ...signRequest(SECRET, { method: 'POST', pathWithQuery: '/join', body }) }));
          client.setHeaders({ 'content-type': 'application/json', ...signRequest(SECRET, { method: 'POST', pathWithQuery: '/join', body }) });
        },
      },
      { url: `${signing}/join`, pid: pid[signing], ...postJoin, headers: { 'content-type': 'application/json', 'x-bot-secret': SECRET } },
    );
    console.log(`2. POST /join signed (HMAC + JetStream nonce) ${s.rpsA.toFixed(0)} req/s vs unsigned ${s.rpsB.toFixed(0)} req/s -> ratio ${s.ratio.toFixed(3)}x (median of rounds; target >= 0.85x)`);
    console.log(cpuLine(s, 'signed', 'unsigned'));

    const viaProxy = [];
    const direct = [];
    await p50Sequential(`${proxy}/api/bot/join`, body, 500);
    await p50Sequential(`${open}/join`, body, 500);
    for (let i = 0; i < ROUNDS; i++) {
      viaProxy.push(await p50Sequential(`${proxy}/api/bot/join`, body, 400));
      direct.push(await p50Sequential(`${open}/join`, body, 400));
    }
    const med = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const pp = med(viaProxy);
    const dp = med(direct);
    console.log(`3. POST /join p50 through interface-proxy ${pp.toFixed(3)} ms vs direct ${dp.toFixed(3)} ms -> adds ${(pp - dp).toFixed(3)} ms (target <= 1 ms), ratio ${(pp / dp).toFixed(2)}x`);
    if (g.errors + s.errors) console.log(`\n(non-2xx or errors during the runs: ${g.errors + s.errors})`);
  } finally {
    for (const c of procs) c.kill('SIGTERM');
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
