import { Injectable } from '@nestjs/common';
import { RoomGatewayConfig } from '../../config';
import { DailyAdapter } from './daily.provider';
import { LiveKitAdapter, livekitHttpBase } from './livekit.provider';
import { ProviderAdapter } from './provider';

export const DEFAULT_PROVIDER = 'daily';

/** The providers this gateway offers: Daily always, LiveKit when its server URL is configured. */
@Injectable()
export class ProviderRegistry {
  private readonly adapters = new Map<string, ProviderAdapter>();

  constructor(cfg: RoomGatewayConfig) {
    this.adapters.set('daily', new DailyAdapter(cfg.dailyBaseUrl, cfg.providerTimeoutMs));
    if (cfg.livekitBaseUrl)
      this.adapters.set('livekit', new LiveKitAdapter(livekitHttpBase(cfg.livekitBaseUrl), cfg.providerTimeoutMs));
  }

  /** Case-insensitive: "Daily", "DAILY" and "daily" are one provider. */
  find(name: string): ProviderAdapter | undefined {
    return this.adapters.get(name.trim().toLowerCase());
  }

  names(): string[] {
    return [...this.adapters.keys()];
  }
}
