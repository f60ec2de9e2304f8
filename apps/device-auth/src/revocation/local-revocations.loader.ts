import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DevicesService } from '../devices/devices.service';
import { LocalRevocations } from './local-revocations';

/** Loads every floor from the registry at start and every minute, in case an event was missed. */
@Injectable()
export class LocalRevocationsLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  static intervalMs = 60_000;
  private readonly logger = new Logger('LocalRevocations');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly devices: DevicesService,
    private readonly map: LocalRevocations,
  ) {}

  onApplicationBootstrap(): void {
    void this.load();
    this.timer = setInterval(() => void this.load(), LocalRevocationsLoader.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async load(): Promise<boolean> {
    try {
      this.map.load(await this.devices.revocationSnapshot());
      return true;
    } catch (err) {
      this.logger.warn(`revocation floors not reloaded: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }
}
