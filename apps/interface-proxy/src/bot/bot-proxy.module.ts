import { Module } from '@nestjs/common';
import { InterfaceProxyConfig } from '../config';
import { BotControlClient, botControlClient } from '../upstream/upstream.client';
import { BotProxyController } from './bot-proxy.controller';
import { BotProxyService } from './bot-proxy.service';

/**
 * The Interface routes (/api/bot/*) and the one pooled client to bot-control;
 * the dashboard imports this module instead of making a second pool.
 */
@Module({
  controllers: [BotProxyController],
  providers: [
    { provide: BotControlClient, inject: [InterfaceProxyConfig], useFactory: botControlClient },
    BotProxyService,
  ],
  exports: [BotControlClient, BotProxyService],
})
export class BotProxyModule {}
