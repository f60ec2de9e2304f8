#!/usr/bin/env node
/*
 * device-auth benchmarks, measured side by side in one run (prints numbers and
 * ratios, asserts nothing; targets in brackets):
 *   1. a device-token-guarded endpoint over the same endpoint unguarded   [>= 0.85x]
 *      (a: same request with the token, the guard's own cost; b: unguarded without a token;
 *      c: the unguarded endpoint plus only the count and audit event every decision gets),
 *      crossed over two verifier processes loaded at once, then alternating on one
 *      of them (bench/pairs.js), after a control pair that shows the servers' own difference
 *   2. /device/auth with the HMAC secret check over the same endpoint with a
 *      slow password hash (scrypt, N=2^14) in its place
 *   3. revocation propagation: admin revoke -> first 401 from another app
 *      verifying locally over NATS, p50 / p99                                  [p99 < 100 ms]
 *   4. /device/auth latency for unknown device, wrong secret and revoked device,
 *      interleaved (they should not be told apart by timing)
 * Throughput pairs also print the server side's CPU time per request, so a
 * ratio can be read as microseconds a request. Parts 2-4 run their servers in
 * this process; part 1's run as bench/verifier-server.js children.
 *
 *   node bench/device-auth.js              # ~3 min on an idle 2-core machine; needs Postgres (DATABASE_URL) and NATS (NATS_URL)
 *   BENCH_SECONDS=2 BENCH_PARTS=1,3 node bench/device-auth.js   # shorter; a subset of the parts
 *
 * Runs the TypeScript sources directly (swc, as jest does), so no build is needed.
 */
'use strict';
require('../test/support/device-auth-register.js');
require('reflect-metadata');
const { scryptSync, randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// Unmeasured load first, so both sides are measured with their code paths compiled by the JIT.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const { LOAD_CPU, SERVER_CPU, pinSelf, pinned } = require('./pinning');
// This process hosts the apps; the load generator runs as a child on the other core.
pinSelf(SERVER_CPU);
const PARTS = (process.env.BENCH_PARTS ?? '1,2,3,4').split(',');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 30);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const { appUrl, bootApp } = require('../libs/platform/src');
const { devNull, verifierModule } = require('./verifier-module');
const { startScript } = require('./apps');
const { alternatingPair, describePair, printPair } = require('./pairs');
const { DeviceAuthModule, loadDeviceAuthConfig } = require('../apps/device-auth/src');
const { SecretHasher } = require('../apps/device-auth/src/devices/secret-hasher');
const { sql } = require('../test/support/device-auth.ts');

/** A deliberately slow password hash in the HMAC's place, for comparison only. */
class ScryptHasher extends SecretHasher {
  hash(secret) {
    return scryptSync(secret, 'bench-salt', 32, { N: 16384, r: 8, p: 1 }).toString('hex');
  }
}

async function startDeviceAuth(dbUrl, dataDir, issuer, hasher) {
  const cfg = loadDeviceAuthConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl,
    NATS_URL,
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef0123',
    DEVICE_AUTH_PEPPER: 'bench-pepper',
    DEVICE_AUTH_ISSUER: issuer,
    DEVICE_AUTH_RATE_LIMIT: '100000',
  });
  const mod = DeviceAuthModule.forRoot(cfg, { logStream: devNull() });
  if (hasher)
    mod.providers = mod.providers.map((p) =>
      p && p.provide === SecretHasher ? { provide: SecretHasher, useValue: hasher } : p,
    );
  const app = await bootApp(mod, { app: cfg.app, port: 0, host: '127.0.0.1', natsUrl: NATS_URL, microservice: true });
  const url = await appUrl(app);
  const admin = (method, path, body) =>
    fetch(`${url}${path}`, {
      method,
      headers: { 'x-portcullis-api-key': cfg.adminKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body && JSON.stringify(body),
    }).then(async (r) => {
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    });
  return { app, url, cfg, admin };
}

/** The load generator runs in its own process, so it does not share the event loop it measures. */
async function cannon(opts) {
  const { execFile } = require('node:child_process');
  const args = [
    require.resolve('autocannon/autocannon.js'),
    '-j',
    '-c',
    String(opts.connections ?? CONNECTIONS),
    '-d',
    String(opts.seconds ?? SECONDS),
  ];
  if (opts.method) args.push('-m', opts.method);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (opts.body) args.push('-b', opts.body);
  args.push(opts.url);
  const [cmd, argv] = pinned(LOAD_CPU, [process.execPath, ...args]);
  const out = await new Promise((resolve, reject) =>
    execFile(cmd, argv, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const r = JSON.parse(out);
  if (r.non2xx) throw new Error(`${opts.url}: ${r.non2xx} non-2xx answers`);
  return r;
}

/** Requests answered by one load of `seconds` against opts, for bench/pairs.js. */
const load = async (opts, seconds) => (await cannon({ ...opts, seconds })).requests.total;
const pairOpts = { rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, load };

const pct = (xs, p) => xs.slice().sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const name = `pc_bench_${randomBytes(5).toString('hex')}`;
  const u = new URL(DATABASE_URL);
  u.pathname = `/${name}`;
  await sql(DATABASE_URL, `CREATE DATABASE ${name}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-bench-'));
  const issuer = `bench-${randomBytes(4).toString('hex')}`;
  const closers = [];
  try {
    const da = await startDeviceAuth(u.toString(), dataDir, issuer);
    closers.push(() => da.app.close());
    const dev = await da.admin('POST', '/admin/devices', {
      customer_id: 'bench',
      device_id: `pi_bench_${randomBytes(4).toString('hex')}`,
    });
    const auth = await fetch(`${da.url}/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: dev.device_id, device_secret: dev.device_secret }),
    }).then((r) => r.json());

    const verifierApp = await bootApp(
      verifierModule({ daUrl: da.url, issuer, audience: da.cfg.audience, natsUrl: NATS_URL }),
      { app: 'bench-verifier', port: 0, host: '127.0.0.1', natsUrl: NATS_URL, microservice: true },
    );
    closers.push(() => verifierApp.close());
    const vurl = await appUrl(verifierApp);
    for (let i = 0; i < 200; i++) {
      if (
        (await fetch(`${vurl}/guarded`, { headers: { authorization: `Bearer ${auth.access_token}` } })).status === 200
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // 1. guarded / unguarded, crossed over two verifier processes loaded at once (bench/pairs.js), after a control pair
    const bearer = { authorization: `Bearer ${auth.access_token}` };
    if (PARTS.includes('1')) {
      const verifierEnv = {
        NATS_URL,
        DEVICE_AUTH_URL: da.url,
        DEVICE_AUTH_ISSUER: issuer,
        DEVICE_AUTH_AUDIENCE: da.cfg.audience,
      };
      const servers = [
        await startScript(require.resolve('./verifier-server'), verifierEnv),
        await startScript(require.resolve('./verifier-server'), verifierEnv),
      ];
      closers.push(async () => servers.forEach((s) => s.child.kill('SIGTERM')));
      for (const s of servers) {
        for (let i = 0; i < 200 && (await fetch(`${s.url}/guarded`, { headers: bearer })).status !== 200; i++)
          await new Promise((r) => setTimeout(r, 50));
      }
      const [first, second] = servers.map((s) => ({ pid: s.child.pid, url: s.url }));
      const route = (path, headers) => (s) => ({ url: `${s.url}${path}`, headers });
      const pair = (label, sideA, sideB, nameA, nameB, target) =>
        printPair(label, [first, second], sideA, sideB, [nameA, nameB], target, pairOpts);
      await pair(
        '1.  control: the unguarded endpoint against itself',
        route('/open', bearer),
        route('/open', bearer),
        'first',
        'second',
        'ideal 1.000x',
      );
      await pair(
        '1a. token-guarded endpoint / unguarded, the same request with the token (the guard alone)',
        route('/guarded', bearer),
        route('/open', bearer),
        'guarded',
        'open',
        '>= 0.85x',
      );
      await pair(
        '1b. token-guarded endpoint / unguarded request without a token (guard + carrying the header)',
        route('/guarded', bearer),
        route('/open'),
        'guarded',
        'open',
      );
      await pair(
        '1c. floor: the unguarded endpoint plus only the decision count and audit event / without',
        route('/open/audited', bearer),
        route('/open', bearer),
        'audited',
        'open',
      );
    }

    // 2. /device/auth: HMAC vs scrypt, same endpoint, same database
    const body = (d) => JSON.stringify({ device_id: d.device_id, device_secret: d.device_secret });
    if (PARTS.includes('2')) {
      const slow = await startDeviceAuth(u.toString(), dataDir, issuer, new ScryptHasher('bench-pepper'));
      closers.push(() => slow.app.close());
      const slowDev = await slow.admin('POST', '/admin/devices', {
        customer_id: 'bench',
        device_id: `pi_slow_${randomBytes(4).toString('hex')}`,
      });
      // Both apps live in this process, which is otherwise idle while the load runs: its CPU is the servers'.
      const json = { 'content-type': 'application/json' };
      const hashers = await alternatingPair(
        { pid: process.pid, opts: { url: `${da.url}/device/auth`, method: 'POST', headers: json, body: body(dev) } },
        {
          pid: process.pid,
          opts: { url: `${slow.url}/device/auth`, method: 'POST', headers: json, body: body(slowDev) },
        },
        pairOpts,
      );
      console.log(describePair('2. /device/auth with HMAC-SHA-256 / with scrypt (N=2^14)', hashers, 'hmac', 'scrypt'));
    }

    // 3. revocation propagation to the other app
    const samples = [];
    for (let i = 0; PARTS.includes('3') && i < REVOCATIONS; i++) {
      const d = await da.admin('POST', '/admin/devices', {
        customer_id: 'bench',
        device_id: `pi_rev_${i}_${randomBytes(4).toString('hex')}`,
      });
      const t = await fetch(`${da.url}/device/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(d),
      }).then((r) => r.json());
      const headers = { authorization: `Bearer ${t.access_token}` };
      if ((await fetch(`${vurl}/guarded`, { headers })).status !== 200) throw new Error('fresh token refused');
      const t0 = performance.now();
      await da.admin('POST', `/admin/devices/${d.device_id}/revoke`);
      while ((await fetch(`${vurl}/guarded`, { headers })).status === 200) {
        if (performance.now() - t0 > 5000) throw new Error(`revocation never arrived (device #${i})`);
      }
      samples.push(performance.now() - t0);
    }
    if (samples.length)
      console.log(
        `3. revoke -> first 401 in another app over NATS (${samples.length} devices): p50 ${pct(samples, 50).toFixed(1)} ms, p99 ${pct(samples, 99).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms (target p99 < 100 ms)`,
      );

    // 4. same 401, same time: interleaved so load drift hits all three alike
    if (PARTS.includes('4')) {
      const known = await da.admin('POST', '/admin/devices', {
        customer_id: 'bench',
        device_id: `pi_known_${randomBytes(4).toString('hex')}`,
      });
      const gone = await da.admin('POST', '/admin/devices', {
        customer_id: 'bench',
        device_id: `pi_gone_${randomBytes(4).toString('hex')}`,
      });
      await da.admin('POST', `/admin/devices/${gone.device_id}/revoke`);
      const cases = {
        unknown: { device_id: `pi_nobody_${randomBytes(4).toString('hex')}`, device_secret: known.device_secret },
        wrong: { device_id: known.device_id, device_secret: `ds_${randomBytes(32).toString('base64url')}` },
        revoked: { device_id: gone.device_id, device_secret: gone.device_secret },
      };
      const lat = { unknown: [], wrong: [], revoked: [] };
      for (let i = 0; i < Number(process.env.BENCH_TIMING_SAMPLES ?? 100); i++) {
        for (const [k, b] of Object.entries(cases)) {
          const t0 = performance.now();
          const r = await fetch(`${da.url}/device/auth`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(b),
          });
          await r.text();
          if (r.status !== 401) throw new Error(`${k}: ${r.status}`);
          lat[k].push(performance.now() - t0);
        }
      }
      const p50 = (k) => pct(lat[k], 50);
      console.log(
        `4. /device/auth 401 latency p50: unknown ${p50('unknown').toFixed(2)} ms, wrong secret ${p50('wrong').toFixed(2)} ms, revoked ${p50('revoked').toFixed(2)} ms; ratios to unknown ${(p50('wrong') / p50('unknown')).toFixed(3)}x / ${(p50('revoked') / p50('unknown')).toFixed(3)}x`,
      );
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await sql(DATABASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
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
