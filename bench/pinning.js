'use strict';
/*
 * On a small machine the load generator and the servers it measures fight for
 * the same cores, and which process the scheduler favours moves a ratio by
 * +-30% between runs. Where `taskset` exists, the bench pins itself (and so its
 * in-process load generator) to core 0 and every server to core 1: one core
 * each, the same for both sides of a comparison. BENCH_PIN=0 turns it off.
 */
const { spawnSync } = require('node:child_process');
const os = require('node:os');

const enabled =
  process.env.BENCH_PIN !== '0' &&
  os.cpus().length >= 2 &&
  spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

const LOAD_CPU = 0;
const SERVER_CPU = 1;

/** Pins this process (every thread) to `cpu`: LOAD_CPU when it drives load, SERVER_CPU when it hosts the servers. */
function pinSelf(cpu = LOAD_CPU) {
  if (enabled) spawnSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/** [command, args] for spawn(), run on `cpu` when pinning is on. */
function pinned(cpu, argv) {
  return enabled ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)];
}
pinned.describe = () => (enabled ? `; load generator on CPU ${LOAD_CPU}, servers on CPU ${SERVER_CPU}` : '');

module.exports = { LOAD_CPU, SERVER_CPU, enabled, pinSelf, pinned };
