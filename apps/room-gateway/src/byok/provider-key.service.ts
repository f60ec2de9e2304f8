import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@portcullis/auth';
import { ProviderCredential } from './provider-credential';

export interface CallerMeta {
  method: string;
  route: string;
  clientIp: string;
  requestId: string;
}

/** What happens to a provider key after the guard let it in: the provider may still refuse it. */
@Injectable()
export class ProviderKeyService {
  constructor(private readonly auth: AuthGuard) {}

  /** The provider said no: recorded on the guard's audit and metrics path, against the fingerprint, never the key. */
  providerRejected(cred: ProviderCredential, meta: CallerMeta): void {
    this.auth.record(
      { transport: 'http', method: meta.method, route: meta.route, clientIp: meta.clientIp, requestId: meta.requestId },
      'deny',
      'provider_rejected',
      cred.fingerprint,
    );
  }
}
