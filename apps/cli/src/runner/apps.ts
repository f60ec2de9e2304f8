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
      // Same boot as startDeviceAuth, with the admin key source swapped for the hot-reloaded one
      // (device-auth's own source is fixed at boot from PORTCULLIS_ADMIN_API_KEY).
      const mod = withProvider(m.DeviceAuthModule.forRoot(cfg, { logStream: ctx.logStream }), { provide: AdminKeySource, useValue: ctx.keySource });
      return bootApp(mod, { app: cfg.app, port: cfg.port, host: cfg.host, natsUrl: cfg.natsUrl, trustedProxies: cfg.trustedProxies, shutdownHooks: false, microservice: true });
    },
  },
  {
    name: 'bot-control',
    env: (ctx) => ({
      BOT_CONTROL_SHARED_SECRET: ctx.config.botControlSecret,
      BOT_CONTROL_AUTH_REQUIRED: ctx.config.botControlAuthRequired ? '1' : '0',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: ctx.config.botControlReadAuthRequired ? '1' : '0',
    }),
    start: async (env, ctx) => {
      const m = await import('../../../bot-control/src');
      return m.startBotControl(m.loadBotControlConfig(env), { logStream: ctx.logStream, shutdownHooks: false });
    },
  },
  {
    name: 'room-gateway',
    env: () => ({}),
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
      // Ready for INTERFACE_AUTH_REQUIRED=1 ([env.interface-proxy]): callers' device tokens verified against this suite's device-auth.
      ...(ctx.urls['device-auth']
        ? {
            INTERFACE_JWKS_URL: `${ctx.urls['device-auth']}/.well-known/jwks.json`,
            INTERFACE_JWT_ISSUER: ctx.config.extraEnv['device-auth']?.DEVICE_AUTH_ISSUER ?? 'portcullis-device-auth',
            INTERFACE_JWT_AUDIENCE: ctx.config.extraEnv['device-auth']?.DEVICE_AUTH_AUDIENCE ?? 'portcullis',
          }
        : {}),
    }),
    start: async (env, ctx) => {
      const m = await import('../../../interface-proxy/src');
      return m.startInterfaceProxy(m.loadInterfaceProxyConfig(env), { logStream: ctx.logStream, shutdownHooks: false });
    },
  },
];

/** Replaces the provider with the same token in a dynamic module (or adds it). */
function withProvider<M extends { providers?: Provider[] }>(mod: M, provider: Provider & { provide: unknown }): M {
  const providers = (mod.providers ?? []).filter((p) => !(typeof p === 'object' && 'provide' in p && p.provide === provider.provide));
  return { ...mod, providers: [...providers, provider] };
}
