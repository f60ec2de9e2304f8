#!/usr/bin/env node
'use strict';
/*
 * The built bot-control (dist/), booted from the environment as its main.ts
 * boots it, with one route the app does not have: GET /open/sessions, the
 * handler of GET /sessions marked @Public(). So one process serves the same
 * endpoint guarded and unguarded, both through the app's one global guard,
 * and bench/bot-control.js can cross each pair over two such processes
 * (bench/pairs.js crossedPair) instead of comparing one process with another.
 * GET /open/sessions/checked is the same public route plus the guard's secret
 * comparison alone (libs/auth checkSharedSecret: the SHA-256 digest and
 * timingSafeEqual every secret comparison must use, no count, no audit event), the
 * floor under any guard that keeps that rule.
 */
const { Controller, Get, Inject, Req } = require('@nestjs/common');
const { Public, checkSharedSecret, extractSharedSecret } = require('../dist/libs/auth/src');
const { runMain } = require('../dist/libs/platform/src');
const { BotControlModule, loadBotControlConfig, startBotControl } = require('../dist/apps/bot-control/src');
const { SessionsService } = require('../dist/apps/bot-control/src/sessions/sessions.service');

class OpenSessionsController {
  constructor(sessions) {
    this.sessions = sessions;
  }
  list() {
    return this.sessions.list();
  }
  checked(req) {
    if (!checkSharedSecret(extractSharedSecret(req.headers), SECRET).ok) throw new Error('bench: wrong secret');
    return this.sessions.list();
  }
}
const SECRET = process.env.BOT_CONTROL_SHARED_SECRET;
const method = (name) => [
  OpenSessionsController.prototype,
  name,
  Object.getOwnPropertyDescriptor(OpenSessionsController.prototype, name),
];
Public()(...method('list'));
Get('open/sessions')(...method('list'));
Public()(...method('checked'));
Get('open/sessions/checked')(...method('checked'));
Req()(OpenSessionsController.prototype, 'checked', 0);
Inject(SessionsService)(OpenSessionsController, undefined, 0);
Controller()(OpenSessionsController);

// startBotControl builds its module itself; the bench adds its controller to that module, so the
// route sits beside SessionsController under the same providers and the same APP_GUARD.
const forRoot = BotControlModule.forRoot.bind(BotControlModule);
BotControlModule.forRoot = (...args) => {
  const mod = forRoot(...args);
  return { ...mod, controllers: [...(mod.controllers ?? []), OpenSessionsController] };
};

runMain(() => startBotControl(loadBotControlConfig(), { shutdownHooks: true }));
