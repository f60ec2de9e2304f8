import { Logger } from '@nestjs/common';
import type { AuditDecision, AuditEvent } from '@portcullis/contracts';

/**
 * Writes one structured audit line per authentication decision. The reason
 * goes here, never to the caller (DESIGN.md: fixed 401 bodies).
 */
export class AuditLog {
  private readonly logger = new Logger('Audit');
  private readonly sinks: Array<(e: AuditEvent) => void> = [];

  constructor(private readonly app: string) {}

  addSink(fn: (e: AuditEvent) => void): void {
    this.sinks.push(fn);
  }

  record(e: Omit<AuditEvent, 'time' | 'app'> & { decision: AuditDecision }): AuditEvent {
    const event: AuditEvent = { time: new Date().toISOString(), app: this.app, ...e };
    const line = { audit: event };
    if (e.decision === 'allow') this.logger.debug(line);
    else this.logger.warn(line);
    for (const sink of this.sinks) sink(event);
    return event;
  }
}
