import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { hmacSha256Hex, macEqualHex, safeEqual, safeEqualKnown, sha256Hex } from './crypto';

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

  it('macEqualHex accepts exactly the expected MAC, across calls that reuse its buffers', () => {
    const macs = ['k1', 'k2', 'k3'].map((k) => createHmac('sha256', k).update('canonical').digest('hex'));
    for (let round = 0; round < 2; round++)
      for (const a of macs) for (const b of macs) expect(macEqualHex(a, b)).toBe(a === b);
  });

  it('macEqualHex refuses anything not shaped like a SHA-256 MAC, even when it names the right bytes', () => {
    const mac = hmacSha256Hex('key', 'canonical');
    for (const presented of [mac.toUpperCase(), mac.slice(1), `${mac}0`, `${mac.slice(0, 63)}g`, ` ${mac.slice(1)}`, '', Buffer.from(mac, 'hex').toString('base64')])
      expect(macEqualHex(presented, mac)).toBe(false);
    expect(macEqualHex(mac, mac.toUpperCase())).toBe(false);
  });
});

describe('digests', () => {
  it('sha256Hex and hmacSha256Hex are the plain SHA-256 and HMAC-SHA-256, for text and bytes', () => {
    for (const data of ['', 'abc', 'réunion \u{1F511}', Buffer.from([0, 255, 1])]) {
      expect(sha256Hex(data)).toBe(createHash('sha256').update(data).digest('hex'));
      expect(hmacSha256Hex('pepper', data)).toBe(createHmac('sha256', 'pepper').update(data).digest('hex'));
    }
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
