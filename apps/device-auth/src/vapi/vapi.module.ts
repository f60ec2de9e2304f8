import { Module } from '@nestjs/common';
import { VapiClient } from './vapi.client';
import { VapiController } from './vapi.controller';

/** Voice calls started and stopped on a device's behalf, with the server's Vapi key (/vapi/*). */
@Module({
  controllers: [VapiController],
  providers: [VapiClient],
})
export class VapiModule {}
