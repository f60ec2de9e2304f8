'use strict';
/*
 * The app a device calls besides device-auth, as bench/device-auth.js measures it:
 * GET /open (@Public) and GET /guarded (@Auth('device-token') through the one
 * AuthGuard, with the platform's metrics, as the apps wire it) answer the same body.
 * GET /open/audited is /open plus only what the guard records for an allowed
 * token (the decision count and an audit event), the floor under any guard.
 * Loads the TypeScript sources (the caller requires the swc register first).
 */
const { Writable } = require('node:stream');
const { Controller, Get, Inject, Module } = require('@nestjs/common');
const {
  Auth,
  AuthGuard,
  AuthModule,
  DeviceTokenModule,
  DeviceTokenStrategy,
  DeviceTokenVerifier,
  Public,
} = require('../libs/auth/src');
const { EVENTS_CLIENT, MetricsService, NatsConnectionService, PlatformModule } = require('../libs/platform/src');

const devNull = () => new Writable({ write: (_c, _e, cb) => cb() });
/** The same endpoint twice: once open, once behind the guard. */
function verifierModule({ daUrl, issuer, audience, natsUrl }) {
  class BenchController {
    constructor(guard) {
      this.guard = guard;
    }
    open() {
      return { ok: true };
    }
    guarded() {
      return { ok: true };
    }
    audited() {
      // The guard's own record path, so the floor runs the code the guard runs.
      this.guard.record(
        { transport: 'http', method: 'GET', route: '/open/audited' },
        'allow',
        'ok',
        'bench-device',
        true,
      );
      return { ok: true };
    }
  }
  const method = (name) => [
    BenchController.prototype,
    name,
    Object.getOwnPropertyDescriptor(BenchController.prototype, name),
  ];
  Inject(AuthGuard)(BenchController, undefined, 0);
  Public()(...method('open'));
  Get('open')(...method('open'));
  Public()(...method('audited'));
  Get('open/audited')(...method('audited'));
  Auth('device-token')(...method('guarded'));
  Get('guarded')(...method('guarded'));
  Controller()(BenchController);
  class VerifierModule {}
  Module({
    imports: [
      PlatformModule.forRoot({ app: 'bench-verifier', logLevel: 'warn', natsUrl, logStream: devNull() }),
      DeviceTokenModule.forRoot({
        jwksUrl: `${daUrl}/.well-known/jwks.json`,
        issuer,
        audience,
        client: EVENTS_CLIENT,
        nats: NatsConnectionService,
        metrics: MetricsService,
      }),
      AuthModule.forRoot({
        app: 'bench-verifier',
        strategies: [(get) => new DeviceTokenStrategy({ verifier: get(DeviceTokenVerifier) })],
      }),
    ],
    controllers: [BenchController],
  })(VerifierModule);
  return VerifierModule;
}

module.exports = { devNull, verifierModule };
