import type { INestApplication } from '@nestjs/common';
import type { AppName, SuiteConfig } from '../config';
import type { ReloadingAdminKeySource } from './admin-key.source';

export type Env = Record<string, string | undefined>;

/** What the runner hands each app as it starts it. */
export interface RunContext {
  config: SuiteConfig;
  keySource: ReloadingAdminKeySource;
  /** URLs of the apps already started (the registry's order is the start order). */
  urls: Partial<Record<AppName, string>>;
  /** Real DATABASE_URL, or the embedded Postgres started on first use. */
  databaseUrl(): Promise<string>;
  logStream?: NodeJS.WritableStream;
}

export interface SuiteApp {
  name: AppName;
  /** Variables this app needs from the suite config, on top of the common ones (HOST, PORT, LOG_LEVEL, NATS_URL). */
  env(ctx: RunContext): Env | Promise<Env>;
  /** Loads the app's barrel (only now, so a CLI command never pays for Nest) and boots it. */
  start(env: Env, ctx: RunContext): Promise<INestApplication>;
}

/**
 * The one list of apps the runner can start. An app is listed once its
 * `apps/<name>/src/index.ts` barrel exists; an app not listed is not started.
 */
export const SUITE_APPS: SuiteApp[] = [
  {
    name: 'device-auth',
    env: async (ctx) => ({
      DATABASE_URL: await ctx.databaseUrl(),
      PORTCULLIS_ADMIN_API_KEY: ctx.keySource.keys().current,
    }),
    start: async (env, ctx) => {
      const m = await import('@portcullis/device-auth');
      // The admin key is the daemon's hot-reloaded one, not fixed at boot, so an edit in the file applies here too.
      return m.startDeviceAuth(m.loadDeviceAuthConfig(env), {
        logStream: ctx.logStream,
        shutdownHooks: false,
        adminKeySource: ctx.keySource,
      });
    },
  },
  {
    name: 'bot-control',
    env: (ctx) => ({
      BOT_CONTROL_SHARED_SECRET: ctx.config.botControlSecret,
      BOT_CONTROL_AUTH_REQUIRED: ctx.config.botControlAuthRequired ? '1' : '0',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: ctx.config.botControlReadAuthRequired ? '1' : '0',
      ...deviceTokens(ctx),
    }),
    start: async (env, ctx) => {
      const m = await import('@portcullis/bot-control');
      return m.startBotControl(m.loadBotControlConfig(env), { logStream: ctx.logStream, shutdownHooks: false });
    },
  },
  {
    name: 'room-gateway',
    env: async (ctx) => ({
      // Signaling rooms live in the same database as device-auth, in their own tables.
      DATABASE_URL: ctx.config.signaling ? await ctx.databaseUrl() : undefined,
      // The operator signaling routes (the dashboard's Rooms tab); the hot-reloaded source replaces this boot value.
      PORTCULLIS_ADMIN_API_KEY: ctx.keySource.keys().current,
      ...deviceTokens(ctx),
    }),
    start: async (env, ctx) => {
      const m = await import('@portcullis/room-gateway');
      return m.startRoomGateway(m.loadRoomGatewayConfig(env), {
        logStream: ctx.logStream,
        shutdownHooks: false,
        adminKeySource: ctx.keySource,
      });
    },
  },
  {
    name: 'interface-proxy',
    env: (ctx) => ({
      BOT_CONTROL_BASE_URL: ctx.urls['bot-control'] ?? `http://127.0.0.1:${ctx.config.ports['bot-control']}`,
      BOT_CONTROL_SHARED_SECRET: ctx.config.botControlSecret,
      DEVICE_AUTH_URL: ctx.urls['device-auth'] ?? `http://127.0.0.1:${ctx.config.ports['device-auth']}`,
      ROOM_GATEWAY_BASE_URL: ctx.urls['room-gateway'] ?? `http://127.0.0.1:${ctx.config.ports['room-gateway']}`,
      // The operator dashboard signs in with the admin key; the hot-reloaded source replaces this boot value.
      PORTCULLIS_ADMIN_API_KEY: ctx.keySource.keys().current,
      ...deviceTokens(ctx),
    }),
    start: async (env, ctx) => {
      const m = await import('@portcullis/interface-proxy');
      // The dashboard signs operators in against the daemon's hot-reloaded key.
      return m.startInterfaceProxy(m.loadInterfaceProxyConfig(env), {
        logStream: ctx.logStream,
        shutdownHooks: false,
        adminKeySource: ctx.keySource,
      });
    },
  },
];

/** Device tokens from this suite's device-auth are accepted by the other apps (verified locally, revocation-aware). */
function deviceTokens(ctx: RunContext): Env {
  return ctx.urls['device-auth'] ? { DEVICE_AUTH_URL: ctx.urls['device-auth'] } : {};
}
