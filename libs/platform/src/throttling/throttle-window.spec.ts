import { applyHit, ThrottleWindow } from './throttle-window';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

describe(applyHit.name, () => {
  const run = (hits: number, t0: number, ttl: number, limit: number, block: number) => {
    let state: ThrottleWindow | undefined;
    const records = [];
    for (let i = 0; i < hits; i++) {
      const step = applyHit(state, t0, ttl, limit, block);
      if (step.next) state = step.next;
      records.push(step.record);
    }
    return { state, records };
  };

  it('counts hits within a window and reports seconds left', () => {
    const { records } = run(3, 1_000, 10_000, 5, 0);
    expect(records.map((r) => r.totalHits)).toEqual([1, 2, 3]);
    expect(records.every((r) => !r.isBlocked && r.timeToBlockExpire === 0 && r.timeToExpire === 10)).toBe(true);
  });

  it('blocks the hit that exceeds the limit for the block duration, without counting blocked hits', () => {
    const { state, records } = run(5, 0, 10_000, 2, 30_000);
    expect(records.map((r) => r.isBlocked)).toEqual([false, false, true, true, true]);
    expect(records[2]).toEqual({ totalHits: 3, timeToExpire: 10, isBlocked: true, timeToBlockExpire: 30 });
    expect(records[4].totalHits).toBe(3);
    // Still blocked after the window ended, until the block ends.
    expect(applyHit(state, 20_000, 10_000, 2, 30_000).record).toMatchObject({ isBlocked: true, timeToBlockExpire: 10 });
    // After the block: a fresh window.
    expect(applyHit(state, 30_000, 10_000, 2, 30_000).record).toEqual({
      totalHits: 1,
      timeToExpire: 10,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('without a block duration refuses until the window ends', () => {
    const { state, records } = run(3, 0, 4_000, 2, 0);
    expect(records[2]).toMatchObject({ isBlocked: true, timeToBlockExpire: 4 });
    expect(applyHit(state, 3_500, 4_000, 2, 0).record).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    expect(applyHit(state, 4_000, 4_000, 2, 0).record).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('starts a new window once the old one has ended', () => {
    const { state } = run(2, 0, 1_000, 5, 0);
    expect(applyHit(state, 1_000, 1_000, 5, 0).record.totalHits).toBe(1);
    expect(applyHit(state, 999, 1_000, 5, 0).record.totalHits).toBe(3);
  });
});

describe(MemoryThrottlerStorage.name, () => {
  it('keeps keys and throttler names apart', async () => {
    let t = 0;
    const s = new MemoryThrottlerStorage(() => t);
    await s.increment('a', 1000, 1, 0, 'ip');
    await expect(s.increment('a', 1000, 1, 0, 'ip')).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    await expect(s.increment('a', 1000, 1, 0, 'key')).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
    await expect(s.increment('b', 1000, 1, 0, 'ip')).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
    t = 1000;
    await expect(s.increment('a', 1000, 1, 0, 'ip')).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
  });
});
