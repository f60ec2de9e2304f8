import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminController } from './admin.controller';

/** The operator API under /admin (admin key): devices, key rotation, the audit trail. */
@Module({
  imports: [DevicesModule, TokensModule],
  controllers: [AdminController],
})
export class AdminModule {}
