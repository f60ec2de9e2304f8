import { createServer, get, IncomingMessage, request, Server } from 'node:http';
import { once } from 'node:events';
import { canary } from '../support/env';
import { waitFor } from '../support/http';
import { freePort, spawnApp } from '../support/processes';

/** One POST over a connection of its own (no keep-alive pool), so "new connection" means one. */
function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res: IncomingMessage) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** GET /health over a connection of its own: its status, or the connection error's code. */
function probe(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    get(`${url}/health`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('graceful shutdown on SIGTERM (a real interface-proxy process)', () => {
  let upstream: Server;
  let upstreamUrl: string;
  const received: string[] = [];
  const held: Array<() => void> = [];
  const release = (): void => held.splice(0).forEach((answer) => answer());

  beforeAll(async () => {
    // A bot-control stand-in that holds each /join until the test lets it answer.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(`${req.method} ${req.url}`);
        held.push(() =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pid: 4242, reused: false })),
        );
      });
    });
    const port = await freePort();
    upstream.listen(port, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('stops taking connections, finishes the request in flight, then exits', async () => {
    const proxy = await spawnApp('interface-proxy', {
      BOT_CONTROL_BASE_URL: upstreamUrl,
      BOT_CONTROL_SHARED_SECRET: canary('drain-secret'),
    });
    const inFlight = post(`${proxy.url}/api/bot/join`, { room_url: 'https://example.daily.co/drain' });
    await waitFor(() => received.length === 1, 10_000, 20);

    const stopped = proxy.stop('SIGTERM');
    // The listener closes: a new connection is refused (or, if accepted in the race, told 503).
    // The probe is /health, which calls nothing upstream, so a probe that wins the race changes nothing.
    await waitFor(async () => ['ECONNREFUSED', 503].includes(await probe(proxy.url)), 10_000, 20);
    expect(received).toHaveLength(1);
    expect(proxy.child.exitCode).toBeNull();
    // A join that comes now is not taken, so it never reaches bot-control.
    const late = await post(`${proxy.url}/api/bot/join`, { room_url: 'https://example.daily.co/late' }).then(
      (r) => r.status,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(['ECONNREFUSED', 503]).toContain(late);
    expect(received).toHaveLength(1);

    // The request that was already in flight still gets its answer.
    release();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text)).toEqual({ pid: 4242, reused: false });
    // Nest re-raises SIGTERM after its graceful shutdown.
    expect(await stopped).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
