import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Public } from '@portcullis/auth';
import { RevocationSnapshot, Subjects } from '@portcullis/contracts';
import { DevicesService } from '../devices/devices.service';

/** Answers verifiers that (re)start or reconnect: every device's generation floor. */
@Public()
@Controller()
export class RevocationController {
  constructor(private readonly devices: DevicesService) {}

  @MessagePattern(Subjects.revocationSnapshot)
  snapshot(): Promise<RevocationSnapshot> {
    return this.devices.revocationSnapshot();
  }
}
