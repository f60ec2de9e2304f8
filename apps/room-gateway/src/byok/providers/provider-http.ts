import { Agent, request } from 'undici';
import { ProviderError } from './provider';

/** Provider answers are small JSON; a bigger body is a fault, failed as `unavailable` rather than buffered. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * One keep-alive pool per process for every provider call (sockets, never
 * credentials, outlive a request). undici's request(), not fetch(): fetch
 * costs about a millisecond more per call, which is the gateway's whole budget.
 */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, maxResponseSize: MAX_RESPONSE_BYTES });
import { scrub } from './scrub';

export interface ProviderCall {
  provider: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Everything that must never be passed on: the key, its parts, the signed token. */
  secrets: string[];
  /** Reads the provider's error text from its error body. */
  errorText: (body: unknown) => string | undefined;
}

/**
 * One HTTP call to a provider, with every failure turned into a ProviderError
 * whose message names the provider and carries no secret. The caught network
 * error is not kept (its cause could hold request details).
 */
export async function callProvider<T>(c: ProviderCall): Promise<T> {
  let status: number;
  let retryAfterHeader: string | undefined;
  let text: string;
  try {
    const res = await request(c.url, {
      method: c.method as 'GET' | 'POST' | 'DELETE',
      headers: c.body === undefined ? c.headers : { ...c.headers, 'content-type': 'application/json' },
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
      dispatcher: agent,
      headersTimeout: c.timeoutMs,
      bodyTimeout: c.timeoutMs,
    });
    status = res.statusCode;
    const ra = res.headers['retry-after'];
    retryAfterHeader = Array.isArray(ra) ? ra[0] : ra;
    text = await res.body.text();
  } catch (err) {
    const code = (err as { code?: string; name?: string } | undefined) ?? {};
    const timedOut = /TIMEOUT/.test(code.code ?? '') || code.name === 'TimeoutError' || code.name === 'AbortError';
    throw new ProviderError('unavailable', `${c.provider} is unreachable${timedOut ? ' (timed out)' : ''}`);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const ok = status >= 200 && status < 300;
  if (ok) {
    if (text && body === undefined)
      throw new ProviderError('unavailable', `${c.provider} answered with something that is not JSON`);
    return body as T;
  }
  const said = scrub(c.errorText(body) ?? '', c.secrets);
  const tail = said ? `: ${said}` : '';
  switch (true) {
    case status === 401 || status === 403:
      throw new ProviderError('rejected_key', 'provider rejected the key');
    case status === 404:
      throw new ProviderError('not_found', `room not found at ${c.provider}${tail}`);
    case status === 429: {
      const ra = retryAfterHeader;
      // Pass on only a well-formed Retry-After (seconds or an HTTP date).
      const retryAfter = ra && /^[\w ,:+-]{1,64}$/.test(ra) ? ra : '1';
      throw new ProviderError('rate_limited', `${c.provider} rate limit reached${tail}`, retryAfter);
    }
    case status === 409:
      throw new ProviderError('conflict', `${c.provider} refused the request${tail}`);
    case status >= 400 && status < 500:
      throw new ProviderError('bad_request', `${c.provider} refused the request${tail}`);
    default:
      throw new ProviderError('unavailable', `${c.provider} failed (HTTP ${status})${tail}`);
  }
}
