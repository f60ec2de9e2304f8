import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { waitFor } from './http';

/** Opcodes of RFC 6455, section 5.2. */
export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameOptions {
  fin?: boolean;
  /** RSV1..RSV3 as the three bits 0b100, 0b010, 0b001. */
  rsv?: number;
  /** Clients must mask (section 5.3); false sends the payload in the clear. */
  mask?: boolean;
  /** The length announced in the header, when it should differ from the payload sent. */
  announcedLength?: number;
}

/** One WebSocket frame, built by hand so that it can break the protocol on purpose. */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), o: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = o.mask ?? true;
  const len = o.announcedLength ?? data.length;
  const b0 = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f);
  let header: Buffer;
  if (len < 126) header = Buffer.from([b0, (mask ? 0x80 : 0) | len]);
  else if (len < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([header, data]);
  const key = randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
  return Buffer.concat([header, key, body]);
}

/**
 * A WebSocket client over a plain TCP socket: it sends the upgrade request
 * (plus whatever bytes a test appends to it) and records what the server
 * answers, so a test can see the HTTP refusal or the close frame it got.
 */
export class RawWs {
  status = 0;
  /** Bytes after the HTTP response head: the server's frames. */
  private frames = Buffer.alloc(0);
  private head = Buffer.alloc(0);
  private headDone = false;
  ended = false;
  error?: string;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      if (this.headDone) {
        this.frames = Buffer.concat([this.frames, d]);
        return;
      }
      this.head = Buffer.concat([this.head, d]);
      const i = this.head.indexOf('\r\n\r\n');
      if (i < 0) return;
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head.toString('latin1'))?.[1] ?? 0);
      this.frames = this.head.subarray(i + 4);
      this.head = this.head.subarray(0, i);
      this.headDone = true;
    });
    socket.on('error', (err) => (this.error = err.message));
    socket.on('close', () => {
      // An answer cut short (no blank line after its head) still has a status line.
      if (!this.headDone) this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head.toString('latin1'))?.[1] ?? 0);
      this.ended = true;
    });
  }

  /**
   * Opens `base` (http://host:port) and sends `GET path` as a WebSocket upgrade.
   * `trailing` is written in the same packet as the request (bytes a server must
   * treat as the first frames); `rawPath` is sent exactly as given.
   */
  static async open(
    base: string,
    path: string,
    opts: { headers?: Record<string, string>; trailing?: Buffer; wait?: boolean } = {},
  ): Promise<RawWs> {
    const u = new URL(base);
    const socket = connect(Number(u.port), u.hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const ws = new RawWs(socket);
    const headers = {
      host: u.host,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
      ...opts.headers,
    };
    const request = `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(request, 'latin1'), opts.trailing ?? Buffer.alloc(0)]));
    if (opts.wait !== false) await waitFor(() => ws.status || ws.ended, 10000, 5);
    return ws;
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Text frames the server sent, decoded. */
  texts(): string[] {
    return this.parse()
      .filter((f) => f.opcode === OP.text)
      .map((f) => f.payload.toString('utf8'));
  }

  /** The code of the server's close frame, once it has arrived. */
  closeCode(): number | undefined {
    const c = this.parse().find((f) => f.opcode === OP.close);
    return c ? (c.payload.length >= 2 ? c.payload.readUInt16BE(0) : 1005) : undefined;
  }

  /** Waits for the server's close frame and for the TCP connection to end; resolves with the close code. */
  async closedWith(timeoutMs = 10000): Promise<number | undefined> {
    await waitFor(() => this.closeCode() !== undefined || this.ended, timeoutMs, 5);
    const code = this.closeCode();
    this.socket.destroy();
    return code;
  }

  /** Ends the connection abruptly with a TCP RST. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): Array<{ opcode: number; payload: Buffer }> {
    const out: Array<{ opcode: number; payload: Buffer }> = [];
    let b = this.frames;
    while (b.length >= 2) {
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) break;
      out.push({ opcode: b[0] & 0x0f, payload: b.subarray(off, off + len) });
      b = b.subarray(off + len);
    }
    return out;
  }
}
