#!/usr/bin/env node
/*
 * Runs every benchmark in bench/ one after another (`npm run bench`, after
 * `npm run build`). Each prints its own ratios, measured side by side.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const HELPERS = ['run.js', 'apps.js', 'pinning.js', 'pairs.js', 'verifier-module.js'];
const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  // Helpers the benchmarks share, and the servers they start, are not benchmarks.
  .filter((f) => f.endsWith('.js') && !HELPERS.includes(f) && !f.endsWith('-server.js') && !f.endsWith('-peer.js'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, [path.join(__dirname, f)], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
