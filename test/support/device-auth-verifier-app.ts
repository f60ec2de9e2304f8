/**
 * A second app that knows nothing of device-auth but its URL: it accepts
 * device tokens only through DeviceTokenModule and AuthModule's device-token strategy
 * from @portcullis/auth, over real NATS. Run as a child process by the e2e tests:
 *   node -r ./test/support/device-auth-register.js test/support/device-auth-verifier-app.ts
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import {
  Auth,
  AuthModule,
  DevicePrincipal,
  DeviceTokenModule,
  DeviceTokenStrategy,
  DeviceTokenVerifier,
  Principal,
} from '@portcullis/auth';
import { bootApp, EVENTS_CLIENT, MetricsService, NatsConnectionService, PlatformModule } from '@portcullis/platform';

const env = process.env;

@Controller()
class WhoAmIController {
  @Auth('device-token')
  @Get('whoami')
  whoami(@Principal() device: DevicePrincipal): { device_id: string; customer_id: string } {
    return { device_id: device.deviceId, customer_id: device.customerId };
  }
}

@Module({
  imports: [
    PlatformModule.forRoot({ app: 'verifier', logLevel: env.LOG_LEVEL ?? 'warn', natsUrl: env.NATS_URL }),
    DeviceTokenModule.forRoot({
      jwksUrl: `${env.DEVICE_AUTH_URL}/.well-known/jwks.json`,
      issuer: env.DEVICE_AUTH_ISSUER as string,
      audience: env.DEVICE_AUTH_AUDIENCE as string,
      client: EVENTS_CLIENT,
      nats: NatsConnectionService,
      metrics: MetricsService,
    }),
    AuthModule.forRoot({ strategies: [(get) => new DeviceTokenStrategy({ verifier: get(DeviceTokenVerifier) })] }),
  ],
  controllers: [WhoAmIController],
})
class VerifierModule {}

void bootApp(VerifierModule, {
  app: 'verifier',
  port: Number(env.PORT),
  host: '127.0.0.1',
  natsUrl: env.NATS_URL,
  shutdownHooks: true,
  microservice: true,
}).catch((err: unknown) => {
  process.stderr.write(`verifier failed: ${String(err)}\n`);
  process.exit(1);
});
