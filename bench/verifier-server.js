#!/usr/bin/env node
'use strict';
/*
 * bench/verifier-module.js's app as a process of its own, so bench/device-auth.js
 * can load a guarded and an unguarded side at once on separate servers
 * (bench/pairs.js). Env: PORT, HOST, NATS_URL, DEVICE_AUTH_URL,
 * DEVICE_AUTH_ISSUER, DEVICE_AUTH_AUDIENCE.
 */
require('../test/support/device-auth-register.js');
require('reflect-metadata');
const { bootApp } = require('../libs/platform/src');
const { verifierModule } = require('./verifier-module');

const env = process.env;
const mod = verifierModule({
  daUrl: env.DEVICE_AUTH_URL,
  issuer: env.DEVICE_AUTH_ISSUER,
  audience: env.DEVICE_AUTH_AUDIENCE,
  natsUrl: env.NATS_URL,
});
bootApp(mod, {
  app: 'bench-verifier',
  port: Number(env.PORT),
  host: env.HOST ?? '127.0.0.1',
  natsUrl: env.NATS_URL,
  microservice: true,
  shutdownHooks: true,
}).catch((err) => {
  process.stderr.write(`bench verifier failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
