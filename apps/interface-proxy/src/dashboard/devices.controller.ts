import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiExcludeController } from '@nestjs/swagger';
import { Auth } from '@portcullis/auth';
import { DEVICE_ID, DeviceListQuery, RegisterDto, RotateDto } from './dashboard.dto';
import { DeviceAuthAdmin } from '../upstream/upstream.client';

interface DeviceView {
  device_id: string;
  customer_id: string;
  name?: string | null;
  active: boolean;
  [k: string]: unknown;
}

function deviceId(id: string): string {
  if (!DEVICE_ID.test(id)) throw new BadRequestException({ detail: 'invalid device id' });
  return encodeURIComponent(id);
}

/** Devices tab: device-auth's admin API with the server's admin key attached. */
@Auth('dashboard-session')
@ApiExcludeController()
@Controller('dashboard/api/devices')
export class DevicesController {
  constructor(private readonly deviceAuth: DeviceAuthAdmin) {}

  @Get()
  async list(@Query() q: DeviceListQuery, @Req() req: FastifyRequest): Promise<{ devices: DeviceView[] }> {
    const qs = new URLSearchParams({ limit: '1000' });
    if (q.customer_id) qs.set('customer_id', q.customer_id);
    const { devices } = await this.deviceAuth.call<{ devices: DeviceView[] }>(
      'GET',
      `/admin/devices?${qs}`,
      undefined,
      String(req.id),
    );
    const needle = (q.q ?? '').trim().toLowerCase();
    const status = q.status ?? 'all';
    return {
      devices: devices.filter(
        (d) =>
          (status === 'all' || (status === 'active') === d.active) &&
          (!needle || [d.device_id, d.customer_id, d.name ?? ''].some((v) => String(v).toLowerCase().includes(needle))),
      ),
    };
  }

  /** The answer carries device_secret once; it is not kept anywhere here. */
  @Post()
  register(@Body() body: RegisterDto, @Req() req: FastifyRequest): Promise<DeviceView> {
    return this.deviceAuth.call(
      'POST',
      '/admin/devices',
      { device_id: body.device_id || undefined, customer_id: body.customer_id, name: body.name || undefined },
      String(req.id),
    );
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revoke(@Param('id') id: string, @Req() req: FastifyRequest): Promise<DeviceView> {
    return this.deviceAuth.call('POST', `/admin/devices/${deviceId(id)}/revoke`, undefined, String(req.id));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  reactivate(@Param('id') id: string, @Req() req: FastifyRequest): Promise<DeviceView> {
    return this.deviceAuth.call('POST', `/admin/devices/${deviceId(id)}/reactivate`, undefined, String(req.id));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotate(@Param('id') id: string, @Body() body: RotateDto, @Req() req: FastifyRequest): Promise<DeviceView> {
    return this.deviceAuth.call(
      'POST',
      `/admin/devices/${deviceId(id)}/rotate-secret`,
      { overlap_seconds: body.overlap_seconds ?? 0 },
      String(req.id),
    );
  }

  @Get(':id/audit')
  audit(@Param('id') id: string, @Req() req: FastifyRequest): Promise<{ events: unknown[] }> {
    return this.deviceAuth.call('GET', `/admin/audit?device_id=${deviceId(id)}&limit=20`, undefined, String(req.id));
  }
}
