import { BadRequestException } from '@nestjs/common';
import { isUtf8 } from 'node:buffer';
import { valueTextProblem } from './text-checks';

/** A body refused before any handler sees it: 400 through the app's error filter. */
export class BodyRefused extends BadRequestException {
  constructor(detail: string) {
    super({ detail });
  }
}

/**
 * What is wrong with the structure of a JSON text, found without building it: nesting deeper
 * than `maxDepth`, or an object that names one key twice. Duplicate keys are refused because
 * JSON.parse keeps the last one silently, so two readers of the same signed bytes (a signature
 * check, a proxy, the handler) could disagree about what was sent.
 *
 * Only brackets, commas and strings matter here; anything else that is not JSON is left for
 * JSON.parse to report. One pass, no recursion, so 1 MiB of `[` costs nothing but the scan.
 */
export function jsonStructureProblem(text: string, maxDepth: number): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (j >= text.length) return undefined;
      const keys = open[open.length - 1];
      if (keys && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined;
        }
        if (keys.has(key)) return 'the JSON body repeats a key in one object';
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
      if (open.length > maxDepth) return `the JSON body is nested deeper than ${maxDepth} levels`;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
  return undefined;
}

export type JsonParse = (text: string) => unknown;

/**
 * Turns the raw bytes of an `application/json` body into a value, or refuses it (400): bytes that
 * are not UTF-8, structure that is too deep or repeats a key, text JSON.parse rejects, and any
 * string or key holding a NUL or a lone surrogate. `parse` is Fastify's own JSON parser, which
 * also refuses `__proto__`/`constructor` keys.
 */
export function parseJsonBody(raw: Buffer, maxDepth: number, parse: JsonParse): unknown {
  if (!isUtf8(raw)) throw new BodyRefused('the body is not valid UTF-8');
  const text = raw.toString('utf8');
  const structure = jsonStructureProblem(text, maxDepth);
  if (structure) throw new BodyRefused(structure);
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    throw new BodyRefused('the body is not valid JSON');
  }
  const textual = valueTextProblem(value, 'body');
  if (textual) throw new BodyRefused(textual);
  return value;
}
