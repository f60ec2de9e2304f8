import { Body, ConflictException, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { Auth } from '@portcullis/auth';
import { DevicesService, DeviceView, deviceView } from '../devices/devices.service';
import { KeyRing } from '../keys/key-ring';
import { RevocationPublisher } from '../revocation/revocation.publisher';
import { AuditQuery, ListQuery, RegisterDeviceDto, RotateSecretDto } from './admin.dto';

type WithSecret = DeviceView & { device_secret: string };

/** The operator's API (X-Portcullis-API-Key). A device secret is shown once: in the answer that creates it. */
@Auth('admin-key')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly devices: DevicesService,
    private readonly ring: KeyRing,
    private readonly publisher: RevocationPublisher,
  ) {}

  @Post('devices')
  async register(@Body() body: RegisterDeviceDto): Promise<WithSecret> {
    const { device, secret } = await this.devices.register(body);
    return { ...deviceView(device), device_secret: secret };
  }

  @Get('devices')
  async list(@Query() q: ListQuery): Promise<{ devices: DeviceView[] }> {
    const rows = await this.devices.list({ customer_id: q.customer_id, limit: q.limit ?? 100, offset: q.offset ?? 0 });
    return { devices: rows.map(deviceView) };
  }

  @Get('devices/:id')
  async show(@Param('id') id: string): Promise<DeviceView> {
    return deviceView(await this.devices.get(id));
  }

  @Post('devices/:id/revoke')
  @HttpCode(200)
  async revoke(@Param('id') id: string): Promise<DeviceView> {
    return deviceView(await this.devices.revoke(id));
  }

  @Post('devices/:id/reactivate')
  @HttpCode(200)
  async reactivate(@Param('id') id: string): Promise<DeviceView> {
    return deviceView(await this.devices.reactivate(id));
  }

  @Post('devices/:id/rotate-secret')
  @HttpCode(200)
  async rotateSecret(@Param('id') id: string, @Body() body: RotateSecretDto): Promise<WithSecret> {
    const { device, secret } = await this.devices.rotateSecret(id, body.overlap_seconds ?? 0);
    return { ...deviceView(device), device_secret: secret };
  }

  @Get('audit')
  async audit(@Query() q: AuditQuery): Promise<{ events: Array<Record<string, unknown>> }> {
    const rows = await this.devices.recentAttempts({ device_id: q.device_id, limit: q.limit ?? 100 });
    return {
      events: rows.map((r) => ({
        id: Number(r.id),
        device_id: r.deviceId,
        action: r.action,
        outcome: r.outcome,
        reason: r.reason,
        client_ip: r.clientIp,
        at: r.createdAt.toISOString(),
        // Throttled sign-ins are one row per device, address and window.
        attempts: r.attempts,
        ...(r.windowStart
          ? { window_start: r.windowStart.toISOString(), last_at: r.lastAt?.toISOString() ?? null }
          : {}),
      })),
    };
  }

  /** Development key store only; with configured keys, rotate by changing the configuration. */
  @Post('signing-keys/rotate')
  @HttpCode(200)
  async rotateSigningKey(): Promise<{ kid: string; kids: string[] }> {
    if (!this.ring.rotatable)
      throw new ConflictException({ detail: 'signing keys come from configuration; rotate them there' });
    const kid = await this.ring.rotate();
    await this.publisher.jwksUpdated({ kids: this.ring.kids(), at: new Date().toISOString() });
    return { kid, kids: this.ring.kids() };
  }
}
