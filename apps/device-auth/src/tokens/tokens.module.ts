import { Module } from '@nestjs/common';
import { DeviceAuthConfig } from '../config';
import { DeviceController } from '../devices/device.controller';
import { DevicesModule } from '../devices/devices.module';
import { JwksController } from '../keys/jwks.controller';
import { KeyRing } from '../keys/key-ring';
import { SignInLimits } from '../throttling';
import { TokensService } from './tokens.service';

/**
 * Sign-in and device tokens: /device/* (sign-in with its limits, refresh, info),
 * the signing key ring and the public keys at /.well-known/jwks.json.
 */
@Module({
  imports: [DevicesModule],
  controllers: [DeviceController, JwksController],
  providers: [
    {
      provide: KeyRing,
      inject: [DeviceAuthConfig],
      useFactory: (cfg: DeviceAuthConfig) =>
        KeyRing.fromConfig({
          signingKeyPem: cfg.signingKeyPem,
          previousKeyPems: cfg.previousKeyPems,
          dataDir: cfg.dataDir,
          maxTokenLifetimeSeconds: cfg.tokenTtlSeconds,
        }),
    },
    TokensService,
    SignInLimits,
  ],
  exports: [KeyRing, TokensService],
})
export class TokensModule {}
