#!/usr/bin/env node
'use strict';
/*
 * The all-in-one runner's time to healthy and resident memory, side by side:
 *   embedded (in-process messaging + PGlite), cold data dir and warm (second start),
 *   real engines (NATS_URL + DATABASE_URL; a fresh database is created and dropped).
 * Each run spawns `node dist/apps/cli/src/main.js start --foreground` (what `npm start` runs)
 * with its own HOME and free ports, waits for every app's /health/ready, reads VmRSS from
 * /proc, then stops it with SIGTERM. Bounded: each start gives up after 120 s.
 * Needs `npm run build` first. Usage: node bench/runner.js [runs per mode, default 1]
 * BENCH_APPS=device-auth,room-gateway picks the apps (default: all four).
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { randomBytes } = require('node:crypto');

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist/apps/cli/src/main.js');
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const PG_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const RUNS = Math.max(1, Number(process.argv[2] || 1));
const APPS = (process.env.BENCH_APPS || 'device-auth,bot-control,room-gateway,interface-proxy')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function startOnce(home, extraEnv) {
  const env = { ...process.env, HOME: home, LOG_LEVEL: 'warn' };
  delete env.NATS_URL;
  delete env.DATABASE_URL;
  delete env.PORTCULLIS_CONFIG;
  Object.assign(env, extraEnv);
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [MAIN, 'start', '--foreground'], {
    cwd: home,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const until = Date.now() + 120000;
  while (!err.includes('portcullis is running')) {
    if (child.exitCode !== null) throw new Error(`runner exited: ${err.slice(-500)}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error('runner not healthy within 120 s');
    }
    await sleep(20);
  }
  // Every app's readiness, confirmed from outside (the runner checked it too before printing).
  const state = JSON.parse(readFileSync(join(home, '.local/share/portcullis/daemon.json'), 'utf8'));
  for (const a of state.apps) {
    const r = await fetch(`${a.url}/health/ready`);
    if (!r.ok) throw new Error(`${a.name} not ready`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(1000); // let start-up garbage settle before reading RSS
  const rss = rssMb(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  return { ms, rss, apps: state.apps.length };
}

function sandbox() {
  const home = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  mkdirSync(join(home, '.config/portcullis'), { recursive: true });
  writeFileSync(
    join(home, '.config/portcullis/portcullis.toml'),
    '[daemon]\nipc_port = 0\n\n[ports]\ninterface_proxy = 0\nbot_control = 0\ndevice_auth = 0\nroom_gateway = 0\n\n' +
      `[suite]\napps = ${JSON.stringify(APPS)}\nready_timeout_seconds = 60\n`,
    { mode: 0o600 },
  );
  return home;
}

async function withDatabase(fn) {
  const { Client } = require('pg');
  const name = `portcullis_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    return await fn(u.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

(async () => {
  const rows = [];
  const failures = [];
  const add = (mode, r) => rows.push({ mode, ...r });
  for (let i = 0; i < RUNS; i++) {
    const home = sandbox();
    try {
      add('embedded, cold (first start)', await startOnce(home, {}));
      add('embedded, warm (data dir kept)', await startOnce(home, {}));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const real = sandbox();
    try {
      await withDatabase(async (db) => {
        add('real NATS + Postgres', await startOnce(real, { NATS_URL, DATABASE_URL: db }));
      });
    } catch (e) {
      failures.push(
        `real NATS + Postgres: ${
          e.message
            .split('\n')
            .filter((l) => l.startsWith('portcullis'))
            .join(' ') || e.message
        }`,
      );
    } finally {
      rmSync(real, { recursive: true, force: true });
    }
  }
  const modes = [...new Set(rows.map((r) => r.mode))];
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = modes.map((m) => {
    const rs = rows.filter((r) => r.mode === m);
    return { mode: m, apps: rs[0].apps, ms: median(rs.map((r) => r.ms)), rss: median(rs.map((r) => r.rss)) };
  });
  const base = summary.find((s) => s.mode.startsWith('real')) || summary[0];
  console.log(
    `all-in-one runner (${APPS.join(', ')}): time to every app healthy, and resident memory (median of ${RUNS} run(s))`,
  );
  console.log(
    `${'mode'.padEnd(32)}${'apps'.padStart(5)}${'healthy ms'.padStart(12)}${'RSS MB'.padStart(9)}${'time vs real'.padStart(14)}${'RSS vs real'.padStart(13)}`,
  );
  for (const s of summary) {
    console.log(
      `${s.mode.padEnd(32)}${String(s.apps).padStart(5)}${s.ms.toFixed(0).padStart(12)}${s.rss.toFixed(0).padStart(9)}` +
        `${(s.ms / base.ms).toFixed(2).padStart(13)}x${(s.rss / base.rss).toFixed(2).padStart(12)}x`,
    );
  }
  for (const f of failures) console.log(`FAILED ${f}`);
  if (failures.length) process.exitCode = 1;
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
