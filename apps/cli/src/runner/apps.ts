import type { INestApplication, Provider } from '@nestjs/common';
import { AdminKeySource } from '@portcullis/auth';
import { bootApp } from '@portcullis/platform';
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
      const m = await import('../../../device-auth/src');
      const cfg = m.loadDeviceAuthConfig(env);
      // startDeviceAuth's boot, with the admin key source swapped for the hot-reloaded one
      // (device-auth's own is fixed at boot from PORTCULLIS_ADMIN_API_KEY).
      const mod = withKeySource(m.DeviceAuthModule.forRoot(cfg, { logStream: ctx.logStream }), ctx.keySource);
      return bootApp(mod, { app: cfg.app, port: cfg.port, host: cfg.host, natsUrl: cfg.natsUrl, trustedProxies: cfg.trustedProxies, shutdownHooks: false, microservice: true });
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
      const m = await import('../../../bot-control/src');
      return m.startBotControl(m.loadBotControlConfig(env), { logStream: ctx.logStream, shutdownHooks: false });
    },
  },
  {
    name: 'room-gateway',
    env: async (ctx) => ({
      // Signaling rooms (seed 004) live in the same database as device-auth, in their own tables.
      DATABASE_URL: ctx.config.signaling ? await ctx.databaseUrl() : undefined,
      ...deviceTokens(ctx),
    }),
    start: async (env, ctx) => {
      const m = await import('../../../room-gateway/src');
      return m.startRoomGateway(m.loadRoomGatewayConfig(env), { logStream: ctx.logStream, shutdownHooks: false });
    },
  },
  {
    name: 'interface-proxy',
    env: (ctx) => ({
      BOT_CONTROL_BASE_URL: ctx.urls['bot-control'] ?? `http://127.0.0.1:${ctx.config.ports['bot-control']}`,
      BOT_CONTROL_SHARED_SECRET: ctx.config.botControlSecret,
      DEVICE_AUTH_BASE_URL: ctx.urls['device-auth'] ?? `http://127.0.0.1:${ctx.config.ports['device-auth']}`,
      ROOM_GATEWAY_BASE_URL: ctx.urls['room-gateway'] ?? `http://127.0.0.1:${ctx.config.ports['room-gateway']}`,
      // The operator dashboard signs in with the admin key; the hot-reloaded source replaces this boot value.
      PORTCULLIS_ADMIN_API_KEY: ctx.keySource.keys().current,
      ...deviceTokens(ctx),
    }),
    start: async (env, ctx) => {
      const m = await import('../../../interface-proxy/src');
      const cfg = m.loadInterfaceProxyConfig(env);
      const { registerDashboardHeaders } = await import('../../../interface-proxy/src/dashboard/security-headers');
      // startInterfaceProxy's boot, with the dashboard's admin key source swapped for the hot-reloaded one.
      const mod = withKeySource(m.InterfaceProxyModule.forRoot(cfg, { logStream: ctx.logStream }), ctx.keySource);
      return bootApp(mod, {
        app: cfg.app,
        port: cfg.port,
        host: cfg.host,
        natsUrl: cfg.natsUrl,
        trustedProxies: cfg.trustedProxies,
        shutdownHooks: false,
        microservice: Boolean(cfg.deviceTokens),
        configure: cfg.dashboard ? (app) => registerDashboardHeaders(app) : undefined,
      });
    },
  },
];

/** Device tokens from this suite's device-auth are accepted by the other apps (verified locally, revocation-aware). */
function deviceTokens(ctx: RunContext): Env {
  return ctx.urls['device-auth'] ? { DEVICE_AUTH_URL: ctx.urls['device-auth'] } : {};
}

type DynamicLike = { module?: unknown; providers?: Provider[]; imports?: unknown[] };

/**
 * Replaces every AdminKeySource provider in a dynamic module and the dynamic modules it
 * imports, so every admin-key check in the app reads the daemon's reloading source.
 * (The apps' start functions take no key source; asked for in the issue 5 report.)
 */
function withKeySource<M extends DynamicLike>(mod: M, source: AdminKeySource): M {
  const isKeySource = (p: Provider): boolean => typeof p === 'object' && p !== null && 'provide' in p && p.provide === AdminKeySource;
  const walk = (m: DynamicLike): DynamicLike => {
    const providers = m.providers?.some(isKeySource) ? [...m.providers.filter((p) => !isKeySource(p)), { provide: AdminKeySource, useValue: source }] : m.providers;
    const imports = m.imports?.map((i) => (i && typeof i === 'object' && 'module' in i ? walk(i as DynamicLike) : i));
    return { ...m, providers, imports };
  };
  return walk(mod) as M;
}
