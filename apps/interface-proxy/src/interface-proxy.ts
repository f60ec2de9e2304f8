import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootApp, bootOptionsFor } from '@portcullis/platform';
import { AppModuleOptions, InterfaceProxyModule } from './app.module';
import { InterfaceProxyConfig } from './config';
import { registerDashboardHeaders } from './dashboard/security-headers';

export function startInterfaceProxy(
  cfg: InterfaceProxyConfig,
  opts: AppModuleOptions & { shutdownHooks?: boolean } = {},
): Promise<NestFastifyApplication> {
  return bootApp(InterfaceProxyModule.forRoot(cfg, opts), {
    ...bootOptionsFor(cfg),
    shutdownHooks: opts.shutdownHooks,
    // device-auth's revocation events arrive through the microservice listener.
    microservice: Boolean(cfg.deviceTokens),
    configure: cfg.dashboard ? (app) => registerDashboardHeaders(app) : undefined,
  });
}
