import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@portcullis/auth';
import type { JWK } from 'jose';
import { KeyRing } from './key-ring';

@Controller()
export class JwksController {
  constructor(private readonly ring: KeyRing) {}

  /** Public keys only: every app verifies device tokens locally against these. */
  @Public()
  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: JWK[] } {
    return this.ring.jwks();
  }
}
