import { Injectable } from '@nestjs/common';
import { RevocationMap } from '@portcullis/auth';

/**
 * This replica's copy of every device's generation floor, the same map every
 * other verifier keeps. The registry stays the truth; this copy is what lets a
 * valid token keep working on routes that need no registry row (the vendor
 * proxy) while Postgres is unreachable, without honouring a revoked one.
 *
 * Fed by: this replica's own revocations, the device-revoked events of the
 * other replicas, every registry row a token check reads, and a full load from
 * the registry at start and every minute (LocalRevocationsLoader).
 */
@Injectable()
export class LocalRevocations extends RevocationMap {}
