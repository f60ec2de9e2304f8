import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { bootApp, bootOptionsFor } from '@portcullis/platform';
import { AppModuleOptions, BotControlModule } from './app.module';
import { BotControlConfig } from './config';

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
      app.useWebSocketAdapter(new WsAdapter(app));
    },
  });
}
