import type { CliContext } from './context';
import { CliError, ExitCode } from './exit-codes';

export interface CallOptions {
  headers?: Record<string, string>;
  json?: unknown;
  /** Name of the app, for messages. */
  app: string;
  /** What the credential was and where it came from, for the 401 message. */
  credential?: string;
  /** Turns a 404 into this message. */
  notFound?: string;
}

/**
 * One HTTP call to the suite. Every failure becomes a CliError with an exit code
 * and a message that says what to do; no credential is ever part of a message.
 */
export async function call<T = unknown>(ctx: CliContext, method: string, url: string, opts: CallOptions): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(30000) });
  } catch {
    throw new CliError(
      ExitCode.unreachable,
      `cannot reach ${opts.app} at ${new URL(url).origin}. Is the suite running? Start it with \`portcullis start\`, check it with \`portcullis status\`` +
        (ctx.daemon ? '' : ` (no running daemon found for ${ctx.loaded.location.path})`) +
        '.',
    );
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return parsed as T;
  const detail = describeBody(parsed) ?? `HTTP ${res.status}`;
  if (res.status === 401 || res.status === 403) {
    const hint = (parsed as { hint?: string } | undefined)?.hint;
    throw new CliError(
      ExitCode.auth,
      `${opts.app} refused ${opts.credential ?? 'the request'} (${res.status}). ` +
        (hint ? `${hint}. ` : '') +
        `This CLI read ${ctx.loaded.location.path}. Check both use the same file (\`portcullis status\` compares key fingerprints); ` +
        'if the key was just changed, restart with `portcullis stop && portcullis start`.',
    );
  }
  if (res.status === 404) throw new CliError(ExitCode.notFound, opts.notFound ?? `${opts.app}: not found (${detail})`);
  if (res.status === 429) {
    const after = res.headers.get('retry-after');
    throw new CliError(
      ExitCode.rejected,
      `${opts.app}: rate limited${after ? `; retry after ${after} s` : ''} (${detail})`,
    );
  }
  if (res.status >= 400 && res.status < 500)
    throw new CliError(ExitCode.rejected, `${opts.app} rejected the request (${res.status}): ${detail}`);
  throw new CliError(ExitCode.server, `${opts.app} failed (${res.status}): ${detail}. See \`portcullis logs\`.`);
}

function describeBody(b: unknown): string | undefined {
  if (!b || typeof b !== 'object') return undefined;
  const o = b as Record<string, unknown>;
  const v = o.detail ?? o.message ?? o.error;
  if (Array.isArray(v)) return v.map(String).join('; ');
  return typeof v === 'string' ? v : v !== undefined ? JSON.stringify(v) : undefined;
}
