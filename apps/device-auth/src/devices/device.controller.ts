import { Body, Controller, Get, HttpCode, Logger, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { Auth, DevicePrincipal, Principal, Public, UNAUTHORIZED_BODY } from '@portcullis/auth';
import type { FastifyReply } from 'fastify';
import { DeviceAuthConfig } from '../config';
import { Device } from '../database/device.entity';
import { DeviceAuthResponse, DeviceAuthDto, DeviceInfo, RefreshResponse } from './device.dto';
import { DevicesService } from './devices.service';
import { TokensService } from '../tokens/tokens.service';
import { DeviceRow } from '../auth/device-row.decorator';
import { SignInLimits, SignInThrottled } from '../throttling';

function info(d: Device): DeviceInfo {
  return { device_id: d.deviceId, customer_id: d.customerId, name: d.name, active: d.active };
}

/** The device endpoints. */
@Controller('device')
export class DeviceController {
  private readonly logger = new Logger(DeviceController.name);

  constructor(
    private readonly devices: DevicesService,
    private readonly tokens: TokensService,
    private readonly limits: SignInLimits,
    private readonly cfg: DeviceAuthConfig,
  ) {}

  /**
   * Sign-in. Unknown device, wrong secret and revoked device get the same fixed 401
   * (the reason goes to the audit trail only); limits: see SignInLimits.
   */
  @Public()
  @Post('auth')
  @HttpCode(200)
  async auth(
    @Body() body: DeviceAuthDto,
    @Req() req: { ip?: string; body?: unknown },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DeviceAuthResponse> {
    await this.limited(body.device_id, req, () => this.limits.admit(req, reply));
    const check = await this.devices.checkCredentials(body.device_id, body.device_secret);
    if (!check.ok) {
      await this.devices.recordAttempt({
        deviceId: check.deviceId,
        action: 'device.auth',
        outcome: 'deny',
        reason: check.reason,
        clientIp: req.ip,
      });
      // The failure itself is on record above; going over a limit only changes the answer to 429.
      await this.limits.failed(req, reply);
      throw new UnauthorizedException({ detail: 'Invalid device credentials' });
    }
    await this.limited(body.device_id, req, () => this.limits.succeeded(req, reply));
    const token = await this.tokens.issue(check.device);
    await Promise.all([
      this.devices.touch(check.device.deviceId),
      this.devices.recordAttempt({
        deviceId: check.device.deviceId,
        action: 'device.auth',
        outcome: 'allow',
        reason: `secret_${check.via}`,
        clientIp: req.ip,
      }),
    ]);
    return { ...token, customer_id: check.device.customerId, device_info: info(check.device) };
  }

  /** Runs a limit check; a refusal is put on record, aggregated per device, address and window, then answered. */
  private async limited(deviceId: string, req: { ip?: string }, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (err) {
      if (err instanceof SignInThrottled) {
        // The 429 needs no database: an unavailable one only costs the record.
        await this.devices
          .recordThrottled({
            deviceId,
            clientIp: req.ip,
            reason: err.reason,
            windowSeconds: this.cfg.rateWindowSeconds,
          })
          .catch((e: unknown) =>
            this.logger.warn(`throttled sign-in not recorded: ${e instanceof Error ? e.message : String(e)}`),
          );
      }
      throw err;
    }
  }

  /** The guard already checked the token against the registry (active, generation). */
  @Auth('device-token')
  @Post('refresh')
  @HttpCode(200)
  async refresh(@DeviceRow() device: Device, @Req() req: { ip?: string }): Promise<RefreshResponse> {
    if (!device) throw new UnauthorizedException(UNAUTHORIZED_BODY);
    const token = await this.tokens.issue(device);
    await Promise.all([
      this.devices.touch(device.deviceId),
      this.devices.recordAttempt({
        deviceId: device.deviceId,
        action: 'device.refresh',
        outcome: 'allow',
        reason: 'ok',
        clientIp: req.ip,
      }),
    ]);
    return token;
  }

  @Auth('device-token')
  @Get('info')
  info(@DeviceRow() device: Device, @Principal() token: DevicePrincipal): DeviceInfo & { token_expires_at: string } {
    return { ...info(device), token_expires_at: new Date(token.expiresAt * 1000).toISOString() };
  }
}
