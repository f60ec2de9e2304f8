import type { AuditDecision } from '@portcullis/contracts';

/**
 * What the auth guard decided about a request, left on the request object for the
 * request's own "request completed" log line (see installRequestLogging). A symbol
 * property, so no serializer of the request ever prints it by accident.
 */
export const AUTH_OUTCOME = Symbol.for('portcullis.authOutcome');

export interface AuthOutcome {
  /** allow / deny / would_deny, or `public` for a @Public() route and `open` for a route its app left open. */
  decision: AuditDecision | 'public' | 'open';
  /** The reason code (never a credential). */
  reason?: string;
  /** Device id, key fingerprint or subject: never a secret. */
  principal?: string;
}

export type WithAuthOutcome = { [AUTH_OUTCOME]?: AuthOutcome };
