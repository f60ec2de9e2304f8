#!/usr/bin/env node
/*
 * Runs every benchmark in bench/ one after another (`npm run bench`, after
 * `npm run build`). Each prints its own ratios, measured side by side.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  // apps.js and pinning.js are helpers the benchmarks share, not benchmarks.
  .filter((f) => f.endsWith('.js') && !['run.js', 'apps.js', 'pinning.js'].includes(f) && !f.endsWith('-peer.js'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, [path.join(__dirname, f)], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
