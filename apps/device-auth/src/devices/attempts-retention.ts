import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeviceAuthConfig } from '../config';
import { DevicesService } from './devices.service';

/**
 * Keeps device_auth_attempts to DEVICE_AUTH_ATTEMPTS_RETENTION_DAYS: purges once
 * soon after start and then hourly. Every replica does it; the delete is
 * idempotent, batched and runs on the created_at index, so that is cheap.
 */
@Injectable()
export class AttemptsRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  static intervalMs = 60 * 60 * 1000;
  static firstRunMs = 30_000;
  private readonly logger = new Logger('AttemptsRetention');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly devices: DevicesService,
    private readonly cfg: DeviceAuthConfig,
  ) {}

  onApplicationBootstrap(): void {
    const first = setTimeout(() => void this.purge(), AttemptsRetention.firstRunMs);
    const every = setInterval(() => void this.purge(), AttemptsRetention.intervalMs);
    first.unref();
    every.unref();
    this.timers = [first, every];
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  async purge(): Promise<number> {
    try {
      const n = await this.devices.purgeAttempts(this.cfg.attemptsRetentionDays);
      if (n) this.logger.log(`purged ${n} sign-in attempt(s) older than ${this.cfg.attemptsRetentionDays} days`);
      return n;
    } catch (err) {
      // Postgres away: the next run catches up.
      this.logger.warn(`attempt purge skipped: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
}
