export interface DatabaseTimeouts {
  /** Getting a connection (a new one, or a free one from a full pool); 0: wait forever. */
  connectTimeoutMs?: number;
  /** One statement, enforced by the server (statement_timeout) and, 1 s later, by the client; 0: no limit. */
  queryTimeoutMs?: number;
}

const DEFAULT_DB_TIMEOUTS: Required<DatabaseTimeouts> = { connectTimeoutMs: 2000, queryTimeoutMs: 5000 };

/**
 * pg pool settings that make a database outage fail fast instead of holding
 * requests: a bounded connect (also bounds waiting for a free pooled client), a
 * server-side statement timeout, a client-side read timeout for a server that
 * stopped answering altogether, and TCP keepalive so a dead peer is noticed.
 * The pool opens new connections on demand, so service resumes by itself once
 * Postgres is back.
 */
export function poolOptions(t: DatabaseTimeouts = {}): Record<string, unknown> {
  const connect = t.connectTimeoutMs ?? DEFAULT_DB_TIMEOUTS.connectTimeoutMs;
  const query = t.queryTimeoutMs ?? DEFAULT_DB_TIMEOUTS.queryTimeoutMs;
  return {
    max: 10,
    connectionTimeoutMillis: connect,
    ...(query > 0
      ? { statement_timeout: query, query_timeout: query + 1000, idle_in_transaction_session_timeout: query * 2 }
      : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
