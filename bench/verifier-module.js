'use strict';
/*
 * The app a device calls besides device-auth, as bench/device-auth.js measures it:
 * GET /open (@Public) and GET /guarded (DeviceTokenGuard, with the platform's
 * metrics, as bot-control and interface-proxy wire it) answer the same body.
 * GET /open/audited is /open plus only what the guard records for an allowed
 * token (the decision count, and the audit event that goes out on NATS as
 * every decision requires), the floor under any guard that keeps that rule.
 * Loads the TypeScript sources (the caller requires the swc register first).
 */
const { Writable } = require('node:stream');
const { Controller, Get, Inject, Module, Req, UseGuards } = require('@nestjs/common');
const { DeviceTokenGuard, DeviceTokenModule, Public } = require('../libs/auth/src');
const { EVENTS_CLIENT, MetricsService, NatsConnectionService, PlatformModule } = require('../libs/platform/src');

const devNull = () => new Writable({ write: (_c, _e, cb) => cb() });
/** A verified device, for the floor route: what the verifier hands the guard for a good token. */
const PRINCIPAL = Object.freeze({ kind: 'device', deviceId: 'bench-device', customerId: 'bench', generation: 1, jti: 'bench', issuedAt: 0, expiresAt: 0 });

/** The same endpoint twice: once open, once behind DeviceTokenGuard. */
function verifierModule({ daUrl, issuer, audience, natsUrl }) {
  class BenchController {
    constructor(guard) {
      this.guard = guard;
    }
    open() { return { ok: true }; }
    guarded() { return { ok: true }; }
    audited(req) {
      // The guard's own allow() (private to TypeScript only), so the floor runs the code the guard runs.
      this.guard.allow(req, 'BenchController.audited', PRINCIPAL);
      return { ok: true };
    }
  }
  const method = (name) => [BenchController.prototype, name, Object.getOwnPropertyDescriptor(BenchController.prototype, name)];
  Inject(DeviceTokenGuard)(BenchController, undefined, 0);
  Public()(...method('open'));
  Get('open')(...method('open'));
  Public()(...method('audited'));
  Get('open/audited')(...method('audited'));
  Req()(BenchController.prototype, 'audited', 0);
  UseGuards(DeviceTokenGuard)(...method('guarded'));
  Get('guarded')(...method('guarded'));
  Controller()(BenchController);
  class VerifierModule {}
  Module({
    imports: [
      PlatformModule.forRoot({ app: 'bench-verifier', logLevel: 'warn', natsUrl, logStream: devNull() }),
      DeviceTokenModule.forRoot({
        app: 'bench-verifier',
        jwksUrl: `${daUrl}/.well-known/jwks.json`,
        issuer,
        audience,
        client: EVENTS_CLIENT,
        nats: NatsConnectionService,
        metrics: MetricsService,
      }),
    ],
    controllers: [BenchController],
  })(VerifierModule);
  return VerifierModule;
}

module.exports = { devNull, verifierModule };
