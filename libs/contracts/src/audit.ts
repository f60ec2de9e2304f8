/** One audit-event format for every authentication decision in the suite. */
export type AuditDecision = 'allow' | 'deny' | 'would_deny';

export interface AuditEvent {
  time: string;
  app: string;
  /** Principal id (device id) or key fingerprint; never a secret. */
  principal?: string;
  action: string;
  decision: AuditDecision;
  reason: string;
  request_id?: string;
  client_ip?: string;
}

/**
 * What a plain NATS subscriber on `Subjects.auditEvent` reads: the Nest NATS
 * transport's JSON envelope around the event (every app emits it through
 * `@portcullis/platform`'s AuditLog).
 */
export interface AuditEventEnvelope {
  pattern: 'portcullis.audit.event';
  data: AuditEvent;
}
