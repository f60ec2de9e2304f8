import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { DevicePrincipal, principalOf } from '@portcullis/auth';
import type { Device } from '../database/device.entity';

/** The registry row of the device whose token the guard accepted (device-auth's registry hook loaded it). */
export const DeviceRow = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Device | undefined =>
    principalOf<DevicePrincipal<Device>>(ctx.switchToHttp().getRequest())?.registered,
);
