import { Writable } from 'node:stream';

/** Collects every JSON log line an app writes, to search them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(line);
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  parsed(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  audits(): Array<Record<string, unknown>> {
    return this.parsed()
      .map((l) => l.audit as Record<string, unknown> | undefined)
      .filter((a): a is Record<string, unknown> => Boolean(a));
  }
}
