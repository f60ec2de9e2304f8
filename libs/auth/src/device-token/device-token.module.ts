import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DeviceTokenVerifier, DeviceTokenVerifierOptions } from './device-token.verifier';
import {
  DEVICE_TOKEN_METRICS,
  REVOCATION_CLIENT,
  REVOCATION_NATS,
  RevocationEventsController,
  RevocationSyncService,
} from './revocation-sync';

export interface DeviceTokenModuleOptions extends Omit<DeviceTokenVerifierOptions, 'keys'> {
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
 *   imports: [DeviceTokenModule.forRoot({ jwksUrl: `${deviceAuthUrl}/.well-known/jwks.json`,
 *             issuer, audience, client: EVENTS_CLIENT, nats: NatsConnectionService, metrics: MetricsService })]
 *   then a DeviceTokenStrategy over the exported verifier in AuthModule.forRoot, routes marked
 *   @Auth('device-token'), and `@Principal() device: DevicePrincipal` in handlers.
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
        { provide: REVOCATION_CLIENT, useExisting: opts.client },
        nats,
        metrics,
        RevocationSyncService,
      ],
      exports: [DeviceTokenVerifier, DEVICE_TOKEN_METRICS, RevocationSyncService],
    };
  }
}
