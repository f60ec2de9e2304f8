import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Device } from '../database/device.entity';
import { DEVICE_ROW_KEY } from './device-auth.guard';

/** The registry row of the device whose token DeviceAuthGuard accepted. */
export const DeviceRow = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Device => ctx.switchToHttp().getRequest<Record<string, Device>>()[DEVICE_ROW_KEY],
);
