import { WebSocket } from 'ws';

/** Reads Server-Sent Events from a URL into an array until closed. */
export class SseReader {
  readonly events: Array<{ event?: string; data: any }> = [];
  private readonly abort = new AbortController();
  status = 0;
  ready: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ready = this.run(url, headers);
  }

  private async run(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal });
    this.status = res.status;
    if (res.status !== 200 || !res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event: string | undefined;
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trim());
            }
            if (data.length) this.events.push({ event, data: JSON.parse(data.join('\n')) });
          }
        }
      } catch {
        /* closed */
      }
    })();
  }

  close(): void {
    this.abort.abort();
  }
}

/** Collects JSON messages from a WebSocket. */
export class WsReader {
  readonly messages: any[] = [];
  closeCode?: number;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (m) => this.messages.push(JSON.parse(m.toString())));
    this.closed = new Promise((r) =>
      this.ws.on('close', (code) => {
        this.closeCode = code;
        r(code);
      }),
    );
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => undefined);
  }

  close(): void {
    this.ws.close();
  }
}
