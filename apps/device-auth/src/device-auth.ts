import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootApp, bootOptionsFor } from '@portcullis/platform';
import { AppModuleOptions, DeviceAuthModule } from './app.module';
import { DeviceAuthConfig } from './config';

export async function startDeviceAuth(
  cfg: DeviceAuthConfig,
  opts: AppModuleOptions & { shutdownHooks?: boolean } = {},
): Promise<NestFastifyApplication> {
  return bootApp(DeviceAuthModule.forRoot(cfg, opts), {
    ...bootOptionsFor(cfg),
    shutdownHooks: opts.shutdownHooks,
    // Answers revocation-snapshot requests from every verifier.
    microservice: true,
  });
}
