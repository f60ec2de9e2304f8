import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigFileError, LoadedFile } from './config-file';
import { expandHome } from './paths';

/** The suite's apps, in the order the runner starts them. */
export const APP_NAMES = ['device-auth', 'bot-control', 'room-gateway', 'interface-proxy'] as const;
export type AppName = (typeof APP_NAMES)[number];
const DEFAULT_PORTS: Record<AppName, number> = {
  'interface-proxy': 3000,
  'bot-control': 3001,
  'device-auth': 3002,
  'room-gateway': 3003,
};
/** TOML keys use underscores: `[ports] device_auth = 3002`. */
const tomlKey = (app: AppName): string => app.replace(/-/g, '_');

const portNumber = z
  .number({ invalid_type_error: 'must be a port number' })
  .int('must be a whole number')
  .min(0)
  .max(65535);
const str = z.string({ invalid_type_error: 'must be a string' });
const envTable = z.record(z.union([z.string(), z.number(), z.boolean()]), {
  invalid_type_error: 'must be a table of VARIABLE = "value"',
});

const schema = z.object({
  daemon: z
    .object({
      api_key: str
        .min(32, 'must be at least 32 characters (delete the line and run `portcullis start` to generate one)')
        .optional(),
      ipc_host: str.optional(),
      host: str.optional(),
      ipc_port: portNumber.optional(),
      port: portNumber.optional(),
      websocket_enabled: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
      websocket_heartbeat_interval: z
        .number({ invalid_type_error: 'must be a number of seconds' })
        .min(0.1)
        .max(3600)
        .optional(),
      key_grace_seconds: z.number({ invalid_type_error: 'must be a number of seconds' }).min(0).max(86400).optional(),
      reload_poll_ms: z
        .number({ invalid_type_error: 'must be a number of milliseconds' })
        .int()
        .min(50)
        .max(60000)
        .optional(),
    })
    .passthrough()
    .default({}),
  suite: z
    .object({
      host: str.optional(),
      data_dir: str.optional(),
      log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
      nats_url: str.optional(),
      database_url: str.optional(),
      apps: z
        .array(z.enum(APP_NAMES, { errorMap: () => ({ message: `must list only ${APP_NAMES.join(', ')}` }) }))
        .optional(),
      ready_timeout_seconds: z.number().positive().max(600).optional(),
      signaling: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
    })
    .passthrough()
    .default({}),
  ports: z
    .object(
      Object.fromEntries(APP_NAMES.map((a) => [tomlKey(a), portNumber.optional()])) as Record<
        string,
        z.ZodOptional<typeof portNumber>
      >,
    )
    .passthrough()
    .default({}),
  bot_control: z
    .object({
      shared_secret: str.min(32, 'must be at least 32 characters').optional(),
      auth_required: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
      read_auth_required: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
    })
    .passthrough()
    .default({}),
  env: z.record(envTable).default({}),
});

/** The typed view of portcullis.toml that every command and the runner use. */
export interface SuiteConfig {
  file: LoadedFile;
  apiKey?: string;
  ipcHost: string;
  ipcPort: number;
  websocketEnabled: boolean;
  websocketHeartbeatSeconds: number;
  keyGraceSeconds: number;
  reloadPollMs: number;
  host: string;
  dataDir: string;
  logLevel: string;
  natsUrl?: string;
  databaseUrl?: string;
  apps?: AppName[];
  readyTimeoutSeconds: number;
  /** room-gateway's signaling rooms, which need the database. */
  signaling: boolean;
  ports: Record<AppName, number>;
  botControlSecret?: string;
  botControlAuthRequired: boolean;
  /** Session lists and the event stream need the secret too (interface-proxy attaches it server-side). */
  botControlReadAuthRequired: boolean;
  /** Extra variables per app: `[env.device-auth]` or `[env.all]`. */
  extraEnv: Record<string, Record<string, string>>;
}

const DEFAULT_IPC_PORT = 3010;

function defaultDataDir(env: Record<string, string | undefined> = process.env, home = homedir()): string {
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'portcullis');
}

/** Validates the parsed file; a problem names the file, the setting and (when found) its line. */
export function toSuiteConfig(file: LoadedFile, env: Record<string, string | undefined> = process.env): SuiteConfig {
  const result = schema.safeParse(file.data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const [section, ...rest] = i.path.map(String);
      const key = rest.join('.');
      const line = findLine(file.text, section, rest[0]);
      return `${line ? `line ${line}: ` : ''}[${section}]${key ? ` ${key}` : ''}: ${i.message}`;
    });
    const first = result.error.issues[0];
    throw new ConfigFileError(
      file.path,
      `config file ${file.path} has ${problems.length === 1 ? 'a bad setting' : 'bad settings'}:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix the file (it was left untouched) and run the command again.`,
      findLine(file.text, String(first.path[0]), first.path[1] !== undefined ? String(first.path[1]) : undefined),
    );
  }
  const c = result.data;
  const base = dirname(file.path);
  const dataDir = c.suite.data_dir ? absolute(expandHome(c.suite.data_dir), base) : defaultDataDir(env);
  const stringEnv: Record<string, Record<string, string>> = {};
  for (const [app, vars] of Object.entries(c.env))
    stringEnv[app] = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
  return {
    file,
    apiKey: c.daemon.api_key,
    ipcHost: c.daemon.ipc_host ?? c.daemon.host ?? '127.0.0.1',
    ipcPort: c.daemon.ipc_port ?? c.daemon.port ?? DEFAULT_IPC_PORT,
    websocketEnabled: c.daemon.websocket_enabled ?? true,
    websocketHeartbeatSeconds: c.daemon.websocket_heartbeat_interval ?? 30,
    keyGraceSeconds: c.daemon.key_grace_seconds ?? 60,
    reloadPollMs: c.daemon.reload_poll_ms ?? 1000,
    host: c.suite.host ?? '127.0.0.1',
    dataDir,
    logLevel: c.suite.log_level ?? 'info',
    natsUrl: c.suite.nats_url || undefined,
    databaseUrl: c.suite.database_url || undefined,
    apps: c.suite.apps,
    readyTimeoutSeconds: c.suite.ready_timeout_seconds ?? 90,
    signaling: c.suite.signaling ?? true,
    ports: Object.fromEntries(
      APP_NAMES.map((a) => [a, (c.ports as Record<string, number | undefined>)[tomlKey(a)] ?? DEFAULT_PORTS[a]]),
    ) as Record<AppName, number>,
    botControlSecret: c.bot_control.shared_secret,
    botControlAuthRequired: c.bot_control.auth_required ?? true,
    botControlReadAuthRequired: c.bot_control.read_auth_required ?? true,
    extraEnv: stringEnv,
  };
}

function absolute(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** The 1-based line of `key` inside `[section]` (or of the section header), for error messages. */
function findLine(text: string, section: string, key?: string): number | undefined {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => new RegExp(`^\\s*\\[\\s*${escape(section)}\\s*\\]`).test(l));
  if (header === -1) return undefined;
  if (!key) return header + 1;
  for (let i = header + 1; i < lines.length && !/^\s*\[/.test(lines[i]); i++) {
    if (new RegExp(`^\\s*"?${escape(key)}"?\\s*=`).test(lines[i])) return i + 1;
  }
  return header + 1;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
