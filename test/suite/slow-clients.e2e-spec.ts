import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { connect, Socket } from 'node:net';
import { WebSocket } from 'ws';
import { canary } from '../support/env';
import { AppProcess, freePort, spawnApp } from '../support/processes';
import { rawExchange, rawRequest } from '../support/raw-http';

/**
 * Clients that hold a connection without finishing their request (slowloris), against real app
 * processes with small timeouts set through the environment, and a SIGTERM while they do.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a raw connection; resolves with everything the server wrote once it closes the connection (or `waitMs` passes). */
function holdOpen(port: number): { socket: Socket; text: () => string; closed: Promise<{ text: string }> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string }>((resolve) => socket.once('close', () => resolve({ text })));
  return { socket, text: () => text, closed };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(25);
  if (!cond()) throw new Error(`${what} did not happen`);
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function status(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

function detail(text: string): unknown {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { detail?: unknown }).detail;
}

describe('slow clients are cut off by the edge timeouts (a real bot-control process)', () => {
  let bot: AppProcess;

  beforeAll(async () => {
    bot = await spawnApp('bot-control', {
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_BODY_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '1000',
      HTTP_KEEPALIVE_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    await bot?.stop();
  });

  it('answers 408 {"detail"} to a body that stops after 3 of 100 promised bytes, and closes the connection', async () => {
    const c = holdOpen(bot.port);
    c.socket.write(rawRequest('POST', '/join', { 'Content-Type': 'application/json', 'Content-Length': 100 }, '{"r'));
    const { text } = await within(c.closed, 10_000, 'a body that never arrives');
    expect({ status: status(text), detail: detail(text) }).toEqual({ status: 408, detail: expect.any(String) });
  });

  it('cuts off a body dribbled one byte at a time, though every byte comes well inside any idle timeout', async () => {
    const c = holdOpen(bot.port);
    c.socket.write(rawRequest('POST', '/join', { 'Content-Type': 'application/json', 'Content-Length': 100 }, ''));
    let sent = 0;
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write(' ');
      sent++;
    }, 250);
    try {
      const { text } = await within(c.closed, 10_000, 'a dribbled body');
      expect(status(text)).toBe(408);
      expect(sent).toBeGreaterThan(3);
    } finally {
      clearInterval(drip);
    }
  });

  it('cuts off headers dribbled slowly with 408 {"detail"}', async () => {
    const c = holdOpen(bot.port);
    c.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write('X-Slow: a\r\n');
    }, 200);
    try {
      const { text } = await within(c.closed, 10_000, 'dribbled headers');
      expect({ status: status(text), detail: detail(text) }).toEqual({ status: 408, detail: expect.any(String) });
    } finally {
      clearInterval(drip);
    }
  });

  it('keeps an SSE stream and a WebSocket open well past every timeout', async () => {
    const sse = holdOpen(bot.port);
    sse.socket.write(
      rawRequest('GET', '/events', { Accept: 'text/event-stream' })
        .toString('latin1')
        .replace('Connection: close\r\n', ''),
    );
    let sseClosed = false;
    void sse.closed.then(() => (sseClosed = true));
    const ws = new WebSocket(`ws://127.0.0.1:${bot.port}/ws/events`);
    ws.on('error', () => undefined);
    await once(ws, 'open');
    let wsClosed = false;
    ws.on('close', () => (wsClosed = true));

    await until(() => sse.text().includes('\r\n\r\n'), 'the SSE answer');
    // Twice the longest timeout (body 2 s) plus the check interval.
    await sleep(4500);
    expect({ sseClosed, wsClosed }).toEqual({ sseClosed: false, wsClosed: false });
    // The stream is the server's answer, still unfinished: 200 text/event-stream, and nothing (no 503, no 408) after it.
    expect(status(sse.text())).toBe(200);
    expect(sse.text()).toMatch(/content-type: text\/event-stream/i);
    expect(sse.text()).not.toMatch(/HTTP\/1\.1 (408|503)/);
    ws.close();
    sse.socket.destroy();
    // The app still answers.
    expect((await rawExchange(bot.port, rawRequest('GET', '/health', {}))).status).toBe(200);
  });
});

describe('a request whose answer does not start within HTTP_REQUEST_TIMEOUT_MS (a real interface-proxy process)', () => {
  let upstream: Server;
  let proxy: AppProcess;
  const held: Array<() => void> = [];

  beforeAll(async () => {
    // A bot-control stand-in that never answers /join.
    upstream = createServer((req) => {
      req.resume();
      held.push(() => req.socket.destroy());
    });
    const port = await freePort();
    upstream.listen(port, '127.0.0.1');
    await once(upstream, 'listening');
    proxy = await spawnApp('interface-proxy', {
      BOT_CONTROL_BASE_URL: `http://127.0.0.1:${port}`,
      BOT_CONTROL_SHARED_SECRET: canary('slow-secret'),
      BOT_CONTROL_TIMEOUT_MS: '60000',
      HTTP_REQUEST_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    held.splice(0).forEach((h) => h());
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('is answered 503 {"detail"} by the app, not left hanging until the upstream gives up', async () => {
    const a = await rawExchange(
      proxy.port,
      rawRequest(
        'POST',
        '/api/bot/join',
        { 'Content-Type': 'application/json' },
        '{"room_url":"https://example.daily.co/slow"}',
      ),
      { timeoutMs: 10_000 },
    );
    expect({ status: a.status, detail: JSON.parse(a.body).detail }).toEqual({
      status: 503,
      detail: expect.stringMatching(/not answered within 1000 ms/),
    });
  });
});

describe('SIGTERM with slow and idle sockets open completes within SHUTDOWN_DRAIN_MS (a real bot-control process)', () => {
  it('stops accepting, closes the slow upload, the idle keep-alive socket and the SSE stream once the drain bound passes, and exits', async () => {
    // Long body timeout: only the drain bound can end the slow upload.
    const bot = await spawnApp('bot-control', {
      HTTP_BODY_TIMEOUT_MS: '120000',
      HTTP_KEEPALIVE_TIMEOUT_MS: '120000',
      SHUTDOWN_DRAIN_MS: '1500',
    });
    const slow = holdOpen(bot.port);
    slow.socket.write(
      rawRequest('POST', '/join', { 'Content-Type': 'application/json', 'Content-Length': 100 }, '{"r'),
    );
    const idle = holdOpen(bot.port);
    idle.socket.write(
      rawRequest('GET', '/health', {})
        .toString('latin1')
        .replace('Connection: close\r\n', 'Connection: keep-alive\r\n'),
    );
    const sse = holdOpen(bot.port);
    sse.socket.write(
      rawRequest('GET', '/events', { Accept: 'text/event-stream' })
        .toString('latin1')
        .replace('Connection: close\r\n', ''),
    );
    await until(() => status(idle.text()) === 200 && sse.text().includes('\r\n\r\n'), 'the idle and SSE answers');

    const stopped = bot.stop('SIGTERM');
    const [s, i, e, exit] = await within(
      Promise.all([slow.closed, idle.closed, sse.closed, stopped]),
      15_000,
      'the process and its sockets',
    ).finally(() => {
      // A process that ignored the bound must not outlive the test.
      if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL');
    });
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    // The slow upload was never answered with a success; the idle socket got its one answer; the SSE stream was cut.
    expect(status(s.text)).not.toBe(200);
    expect(status(i.text)).toBe(200);
    expect(e.text).toMatch(/content-type: text\/event-stream/i);
  });
});
