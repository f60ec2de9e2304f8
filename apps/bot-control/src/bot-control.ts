import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootApp, bootOptionsFor } from '@portcullis/platform';
import { AppModuleOptions, BotControlModule } from './app.module';
import { BotControlConfig } from './config';
import { EventsWsAdapter } from './events/events-ws.adapter';

export async function startBotControl(
  cfg: BotControlConfig,
  opts: AppModuleOptions & { shutdownHooks?: boolean } = {},
): Promise<NestFastifyApplication> {
  return bootApp(BotControlModule.forRoot(cfg, opts), {
    ...bootOptionsFor(cfg),
    shutdownHooks: opts.shutdownHooks,
    // The revocation events of device-auth arrive through the microservice listener.
    microservice: Boolean(cfg.deviceTokens),
    configure: (app) => {
      app.useWebSocketAdapter(new EventsWsAdapter(app));
    },
  });
}
