import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AuditLog } from '../common/audit';
import { DEVICE_TOKEN_AUDIT, DEVICE_TOKEN_METRICS, DeviceTokenGuard } from './device-token.guard';
import { DeviceTokenVerifier, DeviceTokenVerifierOptions } from './device-token.verifier';
import { REVOCATION_CLIENT, REVOCATION_NATS, RevocationEventsController, RevocationSyncService } from './revocation-sync';

export interface DeviceTokenModuleOptions extends Omit<DeviceTokenVerifierOptions, 'keys'> {
  /** App name for audit lines. */
  app: string;
  jwksUrl: string;
  /** Injection token of the ClientProxy to request snapshots with (pass EVENTS_CLIENT from @portcullis/platform). */
  client: symbol | string;
  /** Injection token of the raw NATS source (pass NatsConnectionService): snapshot requests and reconnects. */
  nats?: unknown;
  /** Injection token of a DeviceTokenMetrics (pass MetricsService), optional. */
  metrics?: unknown;
}

/**
 * Everything an app needs to accept device tokens:
 *
 *   imports: [DeviceTokenModule.forRoot({ app: 'bot-control', jwksUrl: `${deviceAuthUrl}/.well-known/jwks.json`,
 *             issuer, audience, client: EVENTS_CLIENT, nats: NatsConnectionService, metrics: MetricsService })]
 *   then @UseGuards(DeviceTokenGuard) (or APP_GUARD) and `@DevicePrincipal() device: DevicePrincipal`.
 *
 * The app must boot with its microservice listener on (bootApp `microservice: true`, the default) so
 * the revocation and JWKS events reach RevocationEventsController.
 */
@Module({})
export class DeviceTokenModule {
  static forRoot(opts: DeviceTokenModuleOptions): DynamicModule {
    const nats: Provider = opts.nats
      ? { provide: REVOCATION_NATS, useExisting: opts.nats as never }
      : { provide: REVOCATION_NATS, useValue: null };
    const metrics: Provider = opts.metrics
      ? { provide: DEVICE_TOKEN_METRICS, useExisting: opts.metrics as never }
      : { provide: DEVICE_TOKEN_METRICS, useValue: null };
    return {
      module: DeviceTokenModule,
      global: true,
      controllers: [RevocationEventsController],
      providers: [
        { provide: DeviceTokenVerifier, useFactory: () => new DeviceTokenVerifier(opts) },
        { provide: DEVICE_TOKEN_AUDIT, useFactory: () => new AuditLog(opts.app) },
        { provide: REVOCATION_CLIENT, useExisting: opts.client },
        nats,
        metrics,
        RevocationSyncService,
        DeviceTokenGuard,
      ],
      exports: [DeviceTokenVerifier, DeviceTokenGuard, DEVICE_TOKEN_AUDIT, DEVICE_TOKEN_METRICS, RevocationSyncService],
    };
  }
}
