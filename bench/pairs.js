'use strict';
/*
 * Throughput pairs, measured in every run.
 *
 * Crossed, at once (crossedPair): the method to read first. On this VM two
 * processes of the same server, started one after the other, can differ by up
 * to 20% for as long as they live (seen 2026-12-01: the first two servers a
 * bench started served 15-20% more than the third and later ones, pair after
 * pair, and within one run the difference between two servers wandered from
 * 0.92x to 1.15x), so a pair with each side on its own process compares
 * processes as much as code, and a control pair of two processes cannot show
 * it. So each
 * server serves both sides (the same endpoint guarded and unguarded, or signed
 * and unsigned), and every round loads A on the first server with B on the
 * second, then A on the second with B on the first, both at once. The
 * geometric mean of the two ratios is A/B with the servers' own speeds
 * cancelled out; the square root of their quotient is how much faster the first
 * server was, printed as the bias the crossing removed. Both servers sit on the
 * servers' core: they meet the same moment-to-moment noise (a server's speed
 * here drifts by up to 2x from one second to the next), the scheduler gives
 * each half the core, and the ratio of requests served is the inverse ratio of
 * what a request costs each side.
 *
 * Alternating (alternatingPair): one side alone on the core, then the other,
 * round after round, both on one server; no process effect, but at the mercy of
 * the drift above. Printed beside the crossed figure; read the two together.
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
 * Both sides loaded at once, crossed over two servers with the roles swapped every
 * round (see the top of this file), after an unmeasured warm-up so both run
 * JIT-compiled code. sideA(server) and sideB(server) give the load options of
 * each side on `server` ({ pid, url }); load(opts, seconds) resolves with the
 * requests answered. Returns summary() of the crossed ratios, plus `bias`: the
 * median of how much faster `first` served than `second`.
 */
async function crossedPair(first, second, sideA, sideB, { rounds, seconds, warmup, load }) {
  const at = (side, server) => ({ pid: server.pid, opts: side(server) });
  const orientations = [
    [at(sideA, first), at(sideB, second)],
    [at(sideA, second), at(sideB, first)],
  ];
  // Each side alone first, then together: a server first measured after a warm-up at half a core
  // read ~10% slower than the same server measured again a minute later.
  if (warmup > 0) {
    for (const [a, b] of orientations) {
      await load(a.opts, warmup);
      await load(b.opts, warmup);
    }
    for (const [a, b] of orientations) await Promise.all([load(a.opts, warmup), load(b.opts, warmup)]);
  }
  const ratios = [];
  const bias = [];
  const rps = { a: [], b: [] };
  const cpu = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    const round = [];
    for (const [a, b] of orientations) {
      const before = [cpuMicros(a.pid), cpuMicros(b.pid)];
      const [na, nb] = await Promise.all([load(a.opts, seconds), load(b.opts, seconds)]);
      const after = [cpuMicros(a.pid), cpuMicros(b.pid)];
      const cpuKnown = before.concat(after).every((x) => x !== undefined);
      round.push({
        na,
        nb,
        ca: cpuKnown ? (after[0] - before[0]) / Math.max(1, na) : undefined,
        cb: cpuKnown ? (after[1] - before[1]) / Math.max(1, nb) : undefined,
      });
    }
    const [one, two] = round;
    ratios.push(Math.sqrt((one.na / one.nb) * (two.na / two.nb)));
    bias.push(Math.sqrt(one.na / one.nb / (two.na / two.nb)));
    rps.a.push((one.na + two.na) / (2 * seconds));
    rps.b.push((one.nb + two.nb) / (2 * seconds));
    if (round.every((o) => o.ca !== undefined && o.cb !== undefined)) {
      cpu.a.push((one.ca + two.ca) / 2);
      cpu.b.push((one.cb + two.cb) / 2);
    }
  }
  return { ...summary('at once, crossed over two servers', ratios, rps, cpu), bias: median(bias) };
}

/** One side loaded at a time, a then b ({ pid, opts }), round after round. */
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
  const bias = r.bias === undefined ? '' : `; first server ${r.bias.toFixed(3)}x the second's speed, cancelled`;
  const head = `${label}: ${nameA} ${r.rpsA.toFixed(0)} req/s, ${nameB} ${r.rpsB.toFixed(0)} req/s ${r.how} -> ratio ${r.ratio.toFixed(3)}x (median of ${r.rounds} rounds, range ${r.min.toFixed(3)}-${r.max.toFixed(3)}${bias}${target ? `; target ${target}` : ''})`;
  if (r.cpuA === undefined || r.cpuB === undefined)
    return `${head}\n   (server CPU per request: not available without /proc)`;
  const extra = r.cpuA - r.cpuB;
  // Loaded at once, the ratio is a cost ratio only while the servers keep their core busy; well
  // under 100% the load generator was the bottleneck and the ratio reads closer to 1 than the costs.
  const busy = r.how.startsWith('at ')
    ? `; servers' core ${Math.round((r.cpuA * r.rpsA + r.cpuB * r.rpsB) / 1e4)}% busy`
    : '';
  return `${head}\n   server CPU per request: ${nameA} ${r.cpuA.toFixed(1)} µs, ${nameB} ${r.cpuB.toFixed(1)} µs (${extra >= 0 ? '+' : ''}${extra.toFixed(1)} µs)${busy}`;
}

/**
 * A pair measured both ways and printed as it goes: crossed over the two servers,
 * then alternating on the first, so there only the route differs.
 * sideA/sideB: server -> load options; opts as for crossedPair.
 */
async function printPair(label, [first, second], sideA, sideB, [nameA, nameB], target, opts) {
  console.log(describePair(label, await crossedPair(first, second, sideA, sideB, opts), nameA, nameB, target));
  const alone = (side) => ({ pid: first.pid, opts: side(first) });
  console.log(
    describePair('    same pair, one server', await alternatingPair(alone(sideA), alone(sideB), opts), nameA, nameB),
  );
}

module.exports = { alternatingPair, crossedPair, cpuMicros, describePair, median, printPair };
