import { connect, Socket } from 'node:net';

/** One answer read off a raw socket; status 0 means none came (the socket closed or the wait ran out). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (without an answer, when status is 0). */
  closed: boolean;
  /** The answer is an event stream; the test hung up after its headers. */
  stream: boolean;
}

function parseAnswer(buf: Buffer, closed: boolean): RawAnswer | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  if ((headers['content-type'] ?? '').startsWith('text/event-stream'))
    return { status, headers, body: '', closed, stream: true };
  const rest = buf.subarray(end + 4);
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length < n)
      return closed ? { status, headers, body: rest.toString('utf8'), closed, stream: false } : undefined;
    return { status, headers, body: rest.subarray(0, n).toString('utf8'), closed, stream: false };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    let body = '';
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at);
      if (lineEnd < 0) return closed ? { status, headers, body, closed, stream: false } : undefined;
      const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) return { status, headers, body, closed, stream: false };
      if (rest.length < lineEnd + 2 + size)
        return closed ? { status, headers, body, closed, stream: false } : undefined;
      body += rest.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8');
      at = lineEnd + 4 + size;
    }
  }
  if (status === 204 || status === 304) return { status, headers, body: '', closed, stream: false };
  return closed ? { status, headers, body: rest.toString('utf8'), closed, stream: false } : undefined;
}

export interface RawOptions {
  /** Half-close the socket after writing (the client says it has nothing more to send). */
  end?: boolean;
  /** How long to wait for the first answer. */
  timeoutMs?: number;
}

/**
 * Writes bytes to 127.0.0.1:port as they are, so a test can send what no HTTP client would:
 * a lying Content-Length, a NUL in a header, invalid UTF-8. Resolves with the first answer.
 */
export function rawExchange(port: number, bytes: Buffer | string, opts: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      const answer = parseAnswer(buf, closed);
      if (!answer && !closed) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer ?? { status: 0, headers: {}, body: buf.toString('utf8'), closed, stream: false });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ status: 0, headers: {}, body: buf.toString('utf8'), closed: false, stream: false });
    }, opts.timeoutMs ?? 5000);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.end) socket.end();
    });
  });
}

/** A request as raw bytes: the request line, Host and `Connection: close`, the given headers, the body. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: Buffer | string,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const names = Object.keys(headers).map((h) => h.toLowerCase());
  if (b && !names.includes('content-length') && !names.includes('transfer-encoding'))
    lines.push(`Content-Length: ${b.length}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b ?? Buffer.alloc(0)]);
}
