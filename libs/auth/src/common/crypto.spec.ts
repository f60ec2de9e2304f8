import { createHash, createHmac } from 'node:crypto';
import {
  encodeSecret,
  hmacSha256Hex,
  macEqualHex,
  matchCurrentOrPrevious,
  safeEqual,
  secretMatches,
  sha256Hex,
} from './crypto';

describe('secret comparison', () => {
  const inputs = [
    '',
    'a',
    'a'.repeat(64),
    'a'.repeat(63) + 'b',
    'a'.repeat(65),
    'réunion \u{1F511}',
    'reunion \u{1F511}',
    '\u0000\u00ff\u0100',
  ];

  it('secretMatches is byte equality, for every pair of inputs', () => {
    for (const a of inputs) for (const b of inputs) expect(secretMatches(a, encodeSecret(b))).toBe(a === b);
  });

  it('a byte string and its text are the same secret; a different encoding is not', () => {
    expect(safeEqual(Buffer.from('réunion', 'utf8'), 'réunion')).toBe(true);
    expect(safeEqual(Buffer.from('réunion', 'latin1'), 'réunion')).toBe(false);
  });

  it.each([
    // presented, current, previous, expected
    ['cur', 'cur', 'prev', 'current'],
    ['prev', 'cur', 'prev', 'previous'],
    ['same', 'same', 'same', 'current'],
    ['other', 'cur', 'prev', undefined],
    ['prev', 'cur', undefined, undefined],
    ['cur', undefined, undefined, undefined],
    ['', 'cur', 'prev', undefined],
  ] as const)('matchCurrentOrPrevious(%j, %j, %j) is %j', (presented, current, previous, expected) => {
    expect(
      matchCurrentOrPrevious(
        presented,
        current ? encodeSecret(current) : undefined,
        previous ? encodeSecret(previous) : undefined,
      ),
    ).toBe(expected);
  });

  it('compares against both configured secrets on every call, whichever matches', () => {
    const compared: string[] = [];
    const spy = jest
      .spyOn(require('node:crypto') as typeof import('node:crypto'), 'timingSafeEqual')
      .mockImplementation((a, b) => {
        compared.push(Buffer.from(b as Uint8Array).toString());
        return Buffer.compare(a as Uint8Array, b as Uint8Array) === 0;
      });
    try {
      expect(matchCurrentOrPrevious('cur1', encodeSecret('cur1'), encodeSecret('prv1'))).toBe('current');
      expect(matchCurrentOrPrevious('xxxx', encodeSecret('cur1'), encodeSecret('prv1'))).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect(compared).toEqual(['cur1', 'prv1', 'cur1', 'prv1']);
  });

  it('macEqualHex accepts exactly the expected MAC', () => {
    const macs = ['k1', 'k2', 'k3'].map((k) => createHmac('sha256', k).update('canonical').digest('hex'));
    for (const a of macs) for (const b of macs) expect(macEqualHex(a, b)).toBe(a === b);
  });

  it('macEqualHex refuses anything not shaped like a SHA-256 MAC, even when it names the right bytes', () => {
    const mac = hmacSha256Hex('key', 'canonical');
    for (const presented of [
      mac.toUpperCase(),
      mac.slice(1),
      `${mac}0`,
      `${mac.slice(0, 63)}g`,
      ` ${mac.slice(1)}`,
      '',
      Buffer.from(mac, 'hex').toString('base64'),
    ])
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
