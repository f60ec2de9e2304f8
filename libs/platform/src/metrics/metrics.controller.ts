import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth-boundary/public.decorator';
import { NatsConnectionService } from '../messaging/nats-connection.service';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly nats: NatsConnectionService,
  ) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async scrape(): Promise<string> {
    this.metrics.natsConnected.set({ app: this.metrics.app }, this.nats.enabled ? Number(this.nats.isConnected()) : 1);
    return this.metrics.registry.metrics();
  }
}
