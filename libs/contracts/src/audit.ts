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
