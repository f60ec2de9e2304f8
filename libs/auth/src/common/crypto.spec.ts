import { createHash, timingSafeEqual } from 'node:crypto';
import { safeEqual, safeEqualKnown } from './crypto';

// The comparisons reuse two digest buffers; these pin down that the answers are the plain
// "digest both, timingSafeEqual" answers for any input, one call after another.
describe('constant-time comparison', () => {
  const reference = (a: string | Buffer, b: string | Buffer) =>
    timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

  const inputs: Array<string | Buffer> = [
    '',
    'a',
    'a'.repeat(64),
    'a'.repeat(63) + 'b',
    'a'.repeat(65),
    'réunion \u{1F511}',
    'reunion \u{1F511}',
    '\u0000\u00ff\u0100',
    Buffer.from([0, 255, 128, 10]),
    Buffer.from('a'.repeat(64)),
  ];

  it('safeEqual agrees with digesting both sides, for every pair in turn', () => {
    for (const a of inputs) for (const b of inputs) expect(safeEqual(a, b)).toBe(reference(a, b));
  });

  it('safeEqualKnown agrees too, across several known secrets used alternately', () => {
    const known = ['a'.repeat(64), 'réunion \u{1F511}', 'x'];
    for (let round = 0; round < 3; round++)
      for (const k of known)
        for (const p of inputs.filter((i): i is string => typeof i === 'string')) expect(safeEqualKnown(p, k)).toBe(p === k);
  });

  it('a byte string and its text are the same secret; a different byte is not', () => {
    expect(safeEqual(Buffer.from('réunion', 'utf8'), 'réunion')).toBe(true);
    expect(safeEqual(Buffer.from('réunion', 'latin1'), 'réunion')).toBe(false);
  });
});
