import { ProviderError } from './provider';
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
  let res: Response;
  try {
    res = await fetch(c.url, {
      method: c.method,
      headers: c.body === undefined ? c.headers : { ...c.headers, 'content-type': 'application/json' },
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
      signal: AbortSignal.timeout(c.timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new ProviderError('unavailable', `${c.provider} is unreachable${timedOut ? ' (timed out)' : ''}`);
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) {
    if (text && body === undefined) throw new ProviderError('unavailable', `${c.provider} answered with something that is not JSON`);
    return body as T;
  }
  const said = scrub(c.errorText(body) ?? '', c.secrets);
  const tail = said ? `: ${said}` : '';
  switch (true) {
    case res.status === 401 || res.status === 403:
      throw new ProviderError('rejected_key', 'provider rejected the key');
    case res.status === 404:
      throw new ProviderError('not_found', `room not found at ${c.provider}${tail}`);
    case res.status === 429: {
      const ra = res.headers.get('retry-after');
      // Pass on only a well-formed Retry-After (seconds or an HTTP date).
      const retryAfter = ra && /^[\w ,:+-]{1,64}$/.test(ra) ? ra : '1';
      throw new ProviderError('rate_limited', `${c.provider} rate limit reached${tail}`, retryAfter);
    }
    case res.status === 409:
      throw new ProviderError('conflict', `${c.provider} refused the request${tail}`);
    case res.status >= 400 && res.status < 500:
      throw new ProviderError('bad_request', `${c.provider} refused the request${tail}`);
    default:
      throw new ProviderError('unavailable', `${c.provider} failed (HTTP ${res.status})${tail}`);
  }
}
