import { Body, Controller, HttpCode, NotFoundException, Post } from '@nestjs/common';
import { Auth, DevicePrincipal, Principal } from '@portcullis/auth';
import { VapiCall, VapiClient } from './vapi.client';
import { VapiStartDto, VapiStopDto } from './vapi.dto';

/** Calls are tagged with these keys; a device may stop only calls tagged with its own id. */
const TAG_DEVICE = 'portcullis_device_id';
const TAG_CUSTOMER = 'portcullis_customer_id';

function taggedDevice(call: VapiCall): unknown {
  return call.assistantOverrides?.metadata?.[TAG_DEVICE] ?? call.metadata?.[TAG_DEVICE];
}

/**
 * The vendor proxy: the device holds a short-lived token, the server holds VAPI_API_KEY.
 * The token alone decides (no registry row is read into the answer), so calls go on
 * while Postgres is unreachable.
 */
@Auth('device-token', { tokenSuffices: true })
@Controller('vapi')
export class VapiController {
  constructor(private readonly vapi: VapiClient) {}

  @Post('start')
  @HttpCode(200)
  start(@Body() body: VapiStartDto, @Principal() device: DevicePrincipal): Promise<VapiCall> {
    const overrides = body.assistant_overrides ?? {};
    const metadata = typeof overrides.metadata === 'object' && overrides.metadata ? overrides.metadata : {};
    return this.vapi.createWebCall({
      assistantId: body.assistant_id,
      assistantOverrides: {
        ...overrides,
        // Set last so a device cannot tag a call as another device's.
        metadata: { ...metadata, [TAG_DEVICE]: device.deviceId, [TAG_CUSTOMER]: device.customerId },
      },
    });
  }

  @Post('stop')
  @HttpCode(200)
  async stop(
    @Body() body: VapiStopDto,
    @Principal() device: DevicePrincipal,
  ): Promise<{ call_id: string; status: string }> {
    const call = await this.vapi.getCall(body.call_id);
    // Another device's call is answered exactly like a missing one.
    if (taggedDevice(call) !== device.deviceId) throw new NotFoundException({ detail: 'call not found' });
    if (call.status === 'ended' || !call.monitor?.controlUrl)
      return { call_id: call.id, status: call.status ?? 'ended' };
    await this.vapi.endCall(call.monitor.controlUrl);
    return { call_id: call.id, status: 'ending' };
  }
}
