import { Body, Controller, Get, HttpCode, Post, Req, UnauthorizedException, UseGuards } from '@nestjs/common';
import { MeteredThrottlerGuard } from '@portcullis/platform';
import { DevicePrincipal, Public, UNAUTHORIZED_BODY } from '@portcullis/auth';
import { Device } from '../database/device.entity';
import { DeviceAuthResponse, DeviceAuthDto, DeviceInfo, RefreshResponse } from './device.dto';
import { DevicesService } from './devices.service';
import { TokensService } from '../tokens/tokens.service';
import { DeviceRow } from '../auth/device-row.decorator';

function info(d: Device): DeviceInfo {
  return { device_id: d.deviceId, customer_id: d.customerId, name: d.name, active: d.active };
}

/** Seed 002's device endpoints. */
@Controller('device')
export class DeviceController {
  constructor(private readonly devices: DevicesService, private readonly tokens: TokensService) {}

  @Public()
  @UseGuards(MeteredThrottlerGuard)
  @Post('auth')
  @HttpCode(200)
  async auth(@Body() body: DeviceAuthDto, @Req() req: { ip?: string }): Promise<DeviceAuthResponse> {
    const check = await this.devices.checkCredentials(body.device_id, body.device_secret);
    if (!check.ok) {
      await this.devices.recordAttempt({ deviceId: check.deviceId, action: 'device.auth', outcome: 'deny', reason: check.reason, clientIp: req.ip });
      throw new UnauthorizedException({ detail: 'Invalid device credentials' });
    }
    const token = await this.tokens.issue(check.device);
    await Promise.all([
      this.devices.touch(check.device.deviceId),
      this.devices.recordAttempt({ deviceId: check.device.deviceId, action: 'device.auth', outcome: 'allow', reason: `secret_${check.via}`, clientIp: req.ip }),
    ]);
    return { ...token, customer_id: check.device.customerId, device_info: info(check.device) };
  }

  /** The global guard already checked the token against the registry (active, generation). */
  @Post('refresh')
  @HttpCode(200)
  async refresh(@DeviceRow() device: Device, @Req() req: { ip?: string }): Promise<RefreshResponse> {
    if (!device) throw new UnauthorizedException(UNAUTHORIZED_BODY);
    const token = await this.tokens.issue(device);
    await Promise.all([
      this.devices.touch(device.deviceId),
      this.devices.recordAttempt({ deviceId: device.deviceId, action: 'device.refresh', outcome: 'allow', reason: 'ok', clientIp: req.ip }),
    ]);
    return token;
  }

  @Get('info')
  info(@DeviceRow() device: Device, @DevicePrincipal() token: DevicePrincipal): DeviceInfo & { token_expires_at: string } {
    return { ...info(device), token_expires_at: new Date(token.expiresAt * 1000).toISOString() };
  }
}
