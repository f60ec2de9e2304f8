import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { RoomGatewayBuckets } from '@portcullis/contracts';
import { createThrottlerStorage, NatsConnectionService } from '@portcullis/platform';
import type { FastifyRequest } from 'fastify';
import { RoomGatewayConfig } from '../config';
import { principalOf } from '@portcullis/auth';
import { ProviderCredential } from './provider-credential';
import { ProviderKeyService } from './provider-key.service';
import { ProviderRegistry } from './providers/provider.registry';
import { RoomsController } from './rooms.controller';
import { RoomsService } from './rooms.service';

/**
 * Bring-your-own-key rooms: the caller's provider key, per request.
 * Rate limits per key fingerprint and per client address, counted in NATS so
 * every replica shares them.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [RoomGatewayConfig, NatsConnectionService],
      useFactory: (cfg: RoomGatewayConfig, nats: NatsConnectionService) => ({
        errorMessage: 'rate limit exceeded',
        // One count per tracker across all routes (the default key is per route).
        generateKey: (_ctx, tracker, name) => `${name}:${tracker}`,
        throttlers: [
          {
            name: 'key',
            ttl: cfg.rateLimit.windowMs,
            limit: cfg.rateLimit.perKey,
            getTracker: (req: Record<string, unknown>) => principalOf<ProviderCredential>(req)?.fingerprint ?? 'none',
          },
          {
            name: 'ip',
            ttl: cfg.rateLimit.windowMs,
            limit: cfg.rateLimit.perIp,
            getTracker: (req: Record<string, unknown>) => (req as unknown as FastifyRequest).ip,
          },
        ],
        storage: createThrottlerStorage(nats, RoomGatewayBuckets.byokRateLimits, cfg.rateLimit.windowMs),
      }),
    }),
  ],
  controllers: [RoomsController],
  providers: [ProviderRegistry, ProviderKeyService, RoomsService],
  exports: [ProviderKeyService],
})
export class ByokModule {}
