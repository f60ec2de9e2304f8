import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  AuthModule,
  DeviceTokenModule,
  DeviceTokenStrategy,
  DeviceTokenVerifier,
  JetStreamNonceStore,
  MemoryNonceStore,
  NonceStore,
  SharedSecretStrategy,
  SignedRequestStrategy,
  StrategyFactory,
} from '@portcullis/auth';
import { KvBuckets } from '@portcullis/contracts';
import {
  DetailExceptionFilter,
  EVENTS_CLIENT,
  MetricsService,
  NatsConnectionService,
  PlatformModule,
} from '@portcullis/platform';
import { botRouteModes, signedOnlyRoutes } from './auth/bot-routes';
import { BotControlConfig } from './config';
import { BotEventsPublisher } from './events/bot-events.publisher';
import { BotEventsService } from './events/bot-events.service';
import { EventsController } from './events/events.controller';
import { EventsGateway } from './events/events.gateway';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';

export interface AppModuleOptions {
  logStream?: NodeJS.WritableStream;
}

/**
 * Nonces in JetStream, kept for twice the skew window (a timestamp may be that
 * far either side of now); readiness probes the bucket and every reconnect
 * binds it again.
 */
function nonceStore(nats: NatsConnectionService, cfg: BotControlConfig): JetStreamNonceStore {
  const store = new JetStreamNonceStore(
    () => nats.connectedNow(),
    KvBuckets.botNonces,
    cfg.signatureSkewSeconds * 2 * 1000,
    {
      replicas: nats.kvReplicas,
    },
  );
  nats.track(store.kv);
  return store;
}

/** Device tokens (with DEVICE_AUTH_URL), signed requests and the shared secret. */
function strategies(cfg: BotControlConfig): StrategyFactory[] {
  const secrets = { current: cfg.secret, previous: cfg.previousSecret };
  return [
    ...(cfg.deviceTokens
      ? [
          (get: <T>(t: unknown) => T) =>
            new DeviceTokenStrategy({
              verifier: get(DeviceTokenVerifier),
              jwtShapedOnly: true,
              subjectPrefix: 'device:',
              acceptReason: 'device_token',
            }),
        ]
      : []),
    (get) => new SignedRequestStrategy({ ...secrets, nonces: get(NonceStore), skewSeconds: cfg.signatureSkewSeconds }),
    () => new SharedSecretStrategy({ ...secrets, routeModes: botRouteModes(cfg), signedOnly: signedOnlyRoutes(cfg) }),
  ];
}

@Module({})
export class BotControlModule {
  static forRoot(cfg: BotControlConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: BotControlModule,
      imports: [
        PlatformModule.forRoot({
          app: cfg.app,
          logLevel: cfg.logLevel,
          logStream: opts.logStream,
          natsUrl: cfg.natsUrl,
          natsKvReplicas: cfg.natsKvReplicas,
        }),
        ...(cfg.deviceTokens
          ? [
              DeviceTokenModule.forRoot({
                ...cfg.deviceTokens,
                client: EVENTS_CLIENT,
                nats: NatsConnectionService,
                metrics: MetricsService,
              }),
            ]
          : []),
        AuthModule.forRoot({ strategies: strategies(cfg) }),
      ],
      controllers: [SessionsController, EventsController],
      providers: [
        { provide: BotControlConfig, useValue: cfg },
        {
          provide: NonceStore,
          inject: [NatsConnectionService],
          // Nonces must stay single-use across replicas; only the in-process runner may keep them in memory.
          useFactory: (nats: NatsConnectionService): NonceStore =>
            nats.enabled ? nonceStore(nats, cfg) : new MemoryNonceStore(cfg.signatureSkewSeconds * 2 * 1000),
        },
        BotEventsPublisher,
        BotEventsService,
        SessionsService,
        EventsGateway,
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
      ],
    };
  }
}
