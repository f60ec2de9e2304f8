'use strict';
/*
 * Throughput pairs, measured two ways in every run.
 *
 * At once (concurrentPair). On this VM a server's speed drifts by up
 * to 2x from one second to the next (two identical servers measured in
 * alternating 1 s rounds served 16k and 35k req/s), so rounds taken one after
 * the other compare moments as much as code. Here both sides of a pair are
 * loaded at the same time, each by its own server process, both pinned to the
 * servers' core: they meet the same noise at the same moment, the scheduler
 * gives each half of the core, and the ratio of requests served is the inverse
 * ratio of what a request costs each. Two identical servers measured this way
 * stay within +-3% of 1.000x, round after round; every bench prints such a
 * control pair, so each run shows its own noise floor. The cost: two processes
 * on one core evict each other's caches, which a server alone on its core does
 * not suffer, so a side that touches more memory may pay a little more here.
 *
 * Alternating (alternatingPair): the method of the earlier results, one side
 * alone on the core, then the other, round after round; unbiased, but at the
 * mercy of the drift above. Both are printed; read the two together.
 */
const fs = require('node:fs');

const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in µs, from /proc (Linux); undefined elsewhere. */
function cpuMicros(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];

/** What both methods return: per-round ratios as median and range, medians of the rest. */
function summary(how, ratios, rps, cpu) {
  const rounds = ratios.length;
  return {
    how,
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    rpsA: median(rps.a),
    rpsB: median(rps.b),
    // CPU only when /proc answered for every round of both sides.
    cpuA: cpu.a.length === rounds && cpu.b.length === rounds ? median(cpu.a) : undefined,
    cpuB: cpu.a.length === rounds && cpu.b.length === rounds ? median(cpu.b) : undefined,
    rounds,
  };
}

/**
 * Loads a and b at once for `rounds` rounds (after an unmeasured warm-up, so both
 * run JIT-compiled code). a and b: { pid, opts }; load(opts, seconds) resolves with
 * the number of requests answered. Returns per-round medians and the ratio's range.
 */
async function concurrentPair(a, b, { rounds, seconds, warmup, load }) {
  // Each side alone first, then together: a server first measured after a warm-up at half a core
  // read ~10% slower than the same server measured again a minute later.
  if (warmup > 0) {
    await load(a.opts, warmup);
    await load(b.opts, warmup);
    await Promise.all([load(a.opts, warmup), load(b.opts, warmup)]);
  }
  const ratios = [];
  const rps = { a: [], b: [] };
  const cpu = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    const before = [cpuMicros(a.pid), cpuMicros(b.pid)];
    const [na, nb] = await Promise.all([load(a.opts, seconds), load(b.opts, seconds)]);
    const after = [cpuMicros(a.pid), cpuMicros(b.pid)];
    ratios.push(na / nb);
    rps.a.push(na / seconds);
    rps.b.push(nb / seconds);
    if (before.concat(after).every((x) => x !== undefined)) {
      cpu.a.push((after[0] - before[0]) / Math.max(1, na));
      cpu.b.push((after[1] - before[1]) / Math.max(1, nb));
    }
  }
  return summary('at the same time', ratios, rps, cpu);
}

/** concurrentPair's measure with one side loaded at a time, a then b, round after round. */
async function alternatingPair(a, b, { rounds, seconds, warmup, load }) {
  if (warmup > 0) {
    await load(a.opts, warmup);
    await load(b.opts, warmup);
  }
  const ratios = [];
  const rps = { a: [], b: [] };
  const cpu = { a: [], b: [] };
  const one = async (side, out, cpuOut) => {
    const before = cpuMicros(side.pid);
    const n = await load(side.opts, seconds);
    const after = cpuMicros(side.pid);
    out.push(n / seconds);
    if (before !== undefined && after !== undefined) cpuOut.push((after - before) / Math.max(1, n));
  };
  for (let i = 0; i < rounds; i++) {
    await one(a, rps.a, cpu.a);
    await one(b, rps.b, cpu.b);
    ratios.push(rps.a[i] / rps.b[i]);
  }
  return summary('in alternating rounds', ratios, rps, cpu);
}

/** One result as two lines: requests and ratio, then each server's CPU per request. */
function describePair(label, r, nameA, nameB, target) {
  const head = `${label}: ${nameA} ${r.rpsA.toFixed(0)} req/s, ${nameB} ${r.rpsB.toFixed(0)} req/s ${r.how} -> ratio ${r.ratio.toFixed(3)}x (median of ${r.rounds} rounds, range ${r.min.toFixed(3)}-${r.max.toFixed(3)}${target ? `; target ${target}` : ''})`;
  if (r.cpuA === undefined || r.cpuB === undefined) return `${head}\n   (server CPU per request: not available without /proc)`;
  const extra = r.cpuA - r.cpuB;
  return `${head}\n   server CPU per request: ${nameA} ${r.cpuA.toFixed(1)} µs, ${nameB} ${r.cpuB.toFixed(1)} µs (${extra >= 0 ? '+' : ''}${extra.toFixed(1)} µs)`;
}

module.exports = { alternatingPair, concurrentPair, cpuMicros, describePair, median };
