import { Module } from '@nestjs/common';
import { BotControlClient } from './bot-control.client';
import { BotProxyController } from './bot-proxy.controller';
import { BotProxyService } from './bot-proxy.service';

/**
 * The browser-facing bot routes and the one pooled client to bot-control; the
 * dashboard imports this module instead of making a second pool.
 */
@Module({
  controllers: [BotProxyController],
  providers: [BotControlClient, BotProxyService],
  exports: [BotControlClient, BotProxyService],
})
export class BotProxyModule {}
