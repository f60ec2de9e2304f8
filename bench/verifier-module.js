'use strict';
/*
 * The app a device calls besides device-auth, as bench/device-auth.js measures it:
 * GET /open (@Public) and GET /guarded (DeviceTokenGuard, with the platform's
 * metrics, as bot-control and interface-proxy wire it) answer the same body.
 * Loads the TypeScript sources (the caller requires the swc register first).
 */
const { Writable } = require('node:stream');
const { Controller, Get, Module, UseGuards } = require('@nestjs/common');
const { DeviceTokenGuard, DeviceTokenModule, Public } = require('../libs/auth/src');
const { EVENTS_CLIENT, MetricsService, NatsConnectionService, PlatformModule } = require('../libs/platform/src');

const devNull = () => new Writable({ write: (_c, _e, cb) => cb() });

/** The same endpoint twice: once open, once behind DeviceTokenGuard. */
function verifierModule({ daUrl, issuer, audience, natsUrl }) {
  class BenchController {
    open() { return { ok: true }; }
    guarded() { return { ok: true }; }
  }
  const method = (name) => [BenchController.prototype, name, Object.getOwnPropertyDescriptor(BenchController.prototype, name)];
  Public()(...method('open'));
  Get('open')(...method('open'));
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
