import { DependencyUnavailable, isDependencyOutage, outageDependency } from '@portcullis/platform';

const POSTGRES = 'Postgres';

/**
 * Whether `err` means device-auth's Postgres cannot be used right now: it is unreachable,
 * restarting, or did not answer within the statement/read timeout. The registry talks to
 * nothing else, so any outage but NATS's is Postgres's. Such a token check answers 503 with
 * Retry-After (never 401); handlers' outages reach the error filter, which answers the same.
 */
export function isPostgresOutage(err: unknown): boolean {
  if (err instanceof DependencyUnavailable) return err.dependency === POSTGRES;
  return isDependencyOutage(err) && outageDependency(err) !== 'NATS';
}

export function postgresUnavailable(cause: unknown): DependencyUnavailable {
  return cause instanceof DependencyUnavailable ? cause : new DependencyUnavailable(POSTGRES, undefined, { cause });
}
