import { BodyRefused, jsonStructureProblem, parseJsonBody } from './json-body';

const parse = (text: string): unknown => JSON.parse(text);
const body = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe(jsonStructureProblem.name, () => {
  it.each([
    ['a flat object', '{"a":1,"b":[1,2,{"c":3}]}'],
    ['nesting exactly at the limit', nested(4)],
    ['the same key in sibling objects', '[{"a":1},{"a":2}]'],
    ['the same key at two depths', '{"a":{"a":1}}'],
    ['brackets, commas and quotes inside strings', '{"a":"[[[[[[,\\"{","b":"}}]]"}'],
    ['a value that equals a key', '{"a":"b","b":"a"}'],
    ['an escaped backslash before the closing quote', '{"a":"\\\\","b":1}'],
  ])('accepts %s', (_why, text) => {
    expect(jsonStructureProblem(text, 4)).toBeUndefined();
  });

  it.each([
    ['nesting one past the limit', nested(5), 'nested deeper than 4 levels'],
    ['nesting 5000 deep (30 KB)', nested(5000), 'nested deeper than 4 levels'],
    ['a repeated key', '{"a":1,"a":2}', 'repeats a key'],
    ['a repeated key spelled with an escape', '{"a":1,"\\u0061":2}', 'repeats a key'],
    ['a repeated key in a nested object', '{"x":{"k":1,"y":[1],"k":2}}', 'repeats a key'],
  ])('refuses %s', (_why, text, problem) => {
    expect(jsonStructureProblem(text, 4)).toContain(problem);
  });
});

describe(parseJsonBody.name, () => {
  it('returns the parsed value of a good body', () => {
    expect(parseJsonBody(body('{"device_id":"dev_1","tags":["a","😀"]}'), 32, parse)).toEqual({
      device_id: 'dev_1',
      tags: ['a', '😀'],
    });
  });

  it.each([
    [
      'bytes that are not UTF-8',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      'not valid UTF-8',
    ],
    ['a raw lone surrogate (CESU bytes ED A0 80)', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'not valid UTF-8'],
    [
      'an escaped lone surrogate in a value',
      body('{"call_id":"\\ud800"}'),
      'body.call_id contains a lone UTF-16 surrogate',
    ],
    ['a NUL in a value', body('{"device_id":"dev\\u0000x"}'), 'body.device_id contains a NUL character'],
    ['a NUL in a key', body('{"a\\u0000":1}'), 'a key in body contains a NUL character'],
    ['a NUL deep in an array', body('{"list":[["ok","\\u0000"]]}'), 'body.list[0][1] contains a NUL'],
    ['text that is not JSON', body('{"a":'), 'not valid JSON'],
    ['nesting past the limit', body(nested(33)), 'nested deeper than 32 levels'],
  ])('refuses %s with 400', (_why, raw, detail) => {
    let thrown: unknown;
    try {
      parseJsonBody(raw, 32, parse);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BodyRefused);
    const e = thrown as BodyRefused;
    expect(e.getStatus()).toBe(400);
    expect((e.getResponse() as { detail: string }).detail).toContain(detail);
  });

  it('accepts a surrogate pair written as escapes', () => {
    expect(parseJsonBody(body('{"s":"\\ud83d\\ude00"}'), 32, parse)).toEqual({ s: '😀' });
  });
});
