import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, CustomStrategy, NatsOptions, Transport } from '@nestjs/microservices';
import { InProcessClient, InProcessServer } from './in-process.transport';
import { NatsConnectionService, natsServers } from './nats-connection.service';

export const EVENTS_CLIENT = Symbol('EVENTS_CLIENT');

export interface MessagingOptions {
  /** One server URL, or a cluster's URLs separated by commas. */
  natsUrl?: string;
  app: string;
  /** Copies of each JetStream key-value bucket (NATS_KV_REPLICAS); 1 unless NATS runs as a cluster. */
  kvReplicas?: number;
}

/** Options for `app.connectMicroservice`: NATS when a URL is given, the in-process bus otherwise. */
export function microserviceOptions(opts: MessagingOptions): NatsOptions | CustomStrategy {
  if (opts.natsUrl) {
    return { transport: Transport.NATS, options: { servers: natsServers(opts.natsUrl), name: `${opts.app}-server` } };
  }
  return { strategy: new InProcessServer() };
}

class ClientCloser implements OnApplicationShutdown {
  constructor(@Inject(EVENTS_CLIENT) private readonly client: ClientProxy) {}
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/**
 * The emitting side of messaging: an `EVENTS_CLIENT` ClientProxy that typed
 * publisher services wrap, and the raw connection for JetStream.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(opts: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        {
          provide: EVENTS_CLIENT,
          useFactory: (): ClientProxy =>
            opts.natsUrl
              ? ClientProxyFactory.create({
                  transport: Transport.NATS,
                  options: { servers: natsServers(opts.natsUrl), name: `${opts.app}-client` },
                })
              : new InProcessClient(),
        },
        {
          provide: NatsConnectionService,
          useFactory: () => new NatsConnectionService(opts.natsUrl, opts.app, { kvReplicas: opts.kvReplicas }),
        },
        ClientCloser,
      ],
      exports: [EVENTS_CLIENT, NatsConnectionService],
    };
  }
}
