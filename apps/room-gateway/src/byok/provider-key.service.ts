import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditLog, fingerprint } from '@portcullis/auth';
import { MetricsService } from '@portcullis/platform';
import { RoomGatewayConfig } from '../config';
import { ProviderCredential } from './provider-credential';
import { DEFAULT_PROVIDER, ProviderRegistry } from './providers/provider.registry';

export const PROVIDER_AUTH_HEADER = 'x-provider-auth';
export const PROVIDER_HEADER = 'x-provider';

export interface CallerMeta {
  route: string;
  clientIp: string;
  requestId: string;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Reads X-Provider-Auth (`Bearer <key>` or the raw key) and X-Provider
 * (default daily, case-insensitive). The key is checked for shape only; the
 * provider decides whether it is valid.
 */
@Injectable()
export class ProviderKeyService {
  private readonly audit: AuditLog;

  constructor(
    private readonly cfg: RoomGatewayConfig,
    private readonly providers: ProviderRegistry,
    private readonly metrics: MetricsService,
  ) {
    this.audit = new AuditLog(cfg.app);
  }

  authenticate(headers: Record<string, string | string[] | undefined>, meta: CallerMeta): ProviderCredential {
    const raw = first(headers[PROVIDER_AUTH_HEADER])?.trim();
    const key = raw?.replace(/^bearer(\s+|$)/i, '').trim();
    if (!key) {
      this.deny(meta, 'missing_key');
      throw new UnauthorizedException({ detail: 'missing X-Provider-Auth header: send your provider API key as "Bearer <key>"' });
    }
    const provider = this.providers.find(first(headers[PROVIDER_HEADER]) ?? DEFAULT_PROVIDER);
    if (!provider) {
      this.deny(meta, 'unknown_provider');
      throw new BadRequestException({ detail: `unsupported X-Provider; supported providers: ${this.providers.names().join(', ')}` });
    }
    const shape = provider.parseKey(key);
    if (!shape.ok) {
      this.deny(meta, 'malformed_key');
      throw new UnauthorizedException({ detail: `X-Provider-Auth is not a valid ${provider.name} key: ${shape.why}` });
    }
    const fp = fingerprint(`${provider.name}:${key}`, this.cfg.keyPepper);
    this.metrics.authDecision(meta.route, 'allow', 'key_present');
    this.audit.record({ principal: fp, action: meta.route, decision: 'allow', reason: 'key_present', request_id: meta.requestId, client_ip: meta.clientIp });
    return { provider, key, fingerprint: fp };
  }

  /** The provider said no: recorded against the fingerprint, never the key. */
  providerRejected(cred: ProviderCredential, meta: CallerMeta): void {
    this.metrics.authDecision(meta.route, 'deny', 'provider_rejected');
    this.audit.record({ principal: cred.fingerprint, action: meta.route, decision: 'deny', reason: 'provider_rejected', request_id: meta.requestId, client_ip: meta.clientIp });
  }

  private deny(meta: CallerMeta, reason: string): void {
    this.metrics.authDecision(meta.route, 'deny', reason);
    this.audit.record({ action: meta.route, decision: 'deny', reason, request_id: meta.requestId, client_ip: meta.clientIp });
  }
}
