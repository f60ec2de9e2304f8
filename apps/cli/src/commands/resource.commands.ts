import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ADMIN_KEY_HEADER, cliContext, GlobalOptions, requireApiKey } from './context';
import { CliError, ExitCode } from './exit-codes';
import { call } from './http-client';
import { details, printResult } from './output';

type Device = Record<string, unknown> & { device_id: string; device_secret?: string };

const DEVICE_COLUMNS = ['device_id', 'customer_id', 'name', 'active', 'created_at', 'last_seen_at', 'revoked_at'];

/** `device …`: device-auth's admin API with the admin key from the config file. */
export function registerDeviceCommands(program: Command, globals: () => GlobalOptions): void {
  const device = program
    .command('device')
    .description('register and manage devices (device-auth admin API, X-Portcullis-API-Key from the config file)')
    .addHelpText(
      'after',
      '\nExamples:\n  portcullis device register --customer acme --name "lobby pi"\n  portcullis device register --customer acme --secret-file ./pi.secret\n' +
        '  portcullis device list --customer acme --json\n  portcullis device revoke dev_123\n  portcullis device rotate-secret dev_123 --overlap 3600',
    );
  const admin = (g: GlobalOptions) => {
    const ctx = cliContext(g);
    const key = requireApiKey(ctx);
    const base = ctx.appUrl('device-auth');
    const opts = { app: 'device-auth', headers: { [ADMIN_KEY_HEADER]: key }, credential: 'the admin API key' };
    return { ctx, base, opts };
  };

  device
    .command('register')
    .description('register a device; its secret is shown once (or written to --secret-file)')
    .requiredOption('--customer <id>', 'customer the device belongs to')
    .option('--id <device_id>', 'device id (generated when left out)')
    .option('--name <name>', 'a label for people')
    .option('--secret-file <path>', 'write the device secret to this file (mode 0600) instead of printing it')
    .action(async (o: { customer: string; id?: string; name?: string; secretFile?: string }) => {
      const { ctx, base, opts } = admin(globals());
      const d = await call<Device>(ctx, 'POST', `${base}/admin/devices`, {
        ...opts,
        json: { customer_id: o.customer, device_id: o.id, name: o.name },
      });
      showWithSecret(ctx.json, d, o.secretFile);
    });

  device
    .command('list')
    .description('list devices')
    .option('--customer <id>', 'only this customer')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o: { customer?: string; limit: string }) => {
      const { ctx, base, opts } = admin(globals());
      const q = new URLSearchParams({ limit: o.limit, ...(o.customer ? { customer_id: o.customer } : {}) });
      const r = await call<{ devices: Device[] }>(ctx, 'GET', `${base}/admin/devices?${q}`, opts);
      printResult(ctx.json, r, r.devices, DEVICE_COLUMNS);
    });

  device
    .command('show <device_id>')
    .description("one device's record (never its secret)")
    .action(async (id: string) => {
      const { ctx, base, opts } = admin(globals());
      const d = await call<Device>(ctx, 'GET', `${base}/admin/devices/${encodeURIComponent(id)}`, {
        ...opts,
        notFound: `no device ${id}; list them with \`portcullis device list\``,
      });
      if (ctx.json) printResult(true, d);
      else process.stdout.write(details(d));
    });

  // revoke and reactivate differ only in their verb.
  for (const [verb, description] of [
    ['revoke', 'revoke a device: every token it holds stops working at once, in every app'],
    ['reactivate', 'let a revoked device authenticate again'],
  ] as const) {
    device
      .command(`${verb} <device_id>`)
      .description(description)
      .action(async (id: string) => {
        const { ctx, base, opts } = admin(globals());
        const d = await call<Device>(ctx, 'POST', `${base}/admin/devices/${encodeURIComponent(id)}/${verb}`, {
          ...opts,
          notFound: `no device ${id}`,
        });
        if (ctx.json) printResult(true, d);
        else process.stdout.write(`${verb === 'revoke' ? 'revoked' : 'reactivated'} ${d.device_id}\n`);
      });
  }

  device
    .command('rotate-secret <device_id>')
    .description('issue a new secret (shown once); the old one keeps working for --overlap seconds')
    .option('--overlap <seconds>', 'seconds the old secret stays valid', '0')
    .option('--secret-file <path>', 'write the new secret to this file (mode 0600) instead of printing it')
    .action(async (id: string, o: { overlap: string; secretFile?: string }) => {
      const overlap = Number(o.overlap);
      if (!Number.isInteger(overlap) || overlap < 0)
        throw new CliError(ExitCode.usage, '--overlap must be a whole number of seconds');
      const { ctx, base, opts } = admin(globals());
      const d = await call<Device>(ctx, 'POST', `${base}/admin/devices/${encodeURIComponent(id)}/rotate-secret`, {
        ...opts,
        json: { overlap_seconds: overlap },
        notFound: `no device ${id}`,
      });
      showWithSecret(ctx.json, d, o.secretFile);
    });
}

function showWithSecret(json: boolean, d: Device, secretFile?: string): void {
  const { device_secret: secret, ...rest } = d;
  if (secretFile && secret) {
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    if (json) printResult(true, { ...rest, device_secret_file: secretFile });
    else
      process.stdout.write(
        `${details(rest)}device secret written to ${secretFile} (mode 0600); it is not shown again\n`,
      );
    return;
  }
  if (json) printResult(true, d);
  else
    process.stdout.write(
      `${details(rest)}device_secret  ${secret}\n(the secret is shown once; store it on the device now)\n`,
    );
}

/** `bot …`: bot-control with the shared secret from the config file ([bot_control] shared_secret). */
export function registerBotCommands(program: Command, globals: () => GlobalOptions): void {
  const bot = program
    .command('bot')
    .description('start, stop and list bot sessions (bot-control, X-Bot-Secret from the config file)')
    .addHelpText(
      'after',
      '\nExamples:\n  portcullis bot join --room-url https://example.daily.co/standup --bot pearl\n  portcullis bot sessions --json\n  portcullis bot leave 4242',
    );
  const ctl = (g: GlobalOptions) => {
    const ctx = cliContext(g);
    const secret = ctx.loaded.config.botControlSecret;
    const headers: Record<string, string> = secret ? { 'x-bot-secret': secret } : {};
    return {
      ctx,
      base: ctx.appUrl('bot-control'),
      opts: { app: 'bot-control', headers, credential: 'the bot-control shared secret ([bot_control] shared_secret)' },
    };
  };

  bot
    .command('join')
    .description('start a bot in a room (or reuse the one already there)')
    .requiredOption('--room-url <url>', 'https:// room URL')
    .option('--bot <name>', 'which bot personality')
    .option(
      '--token-env <VAR>',
      'name of an environment variable holding a room token for the bot (not passed on the command line, so it stays out of shell history)',
    )
    .action(async (o: { roomUrl: string; bot?: string; tokenEnv?: string }) => {
      const { ctx, base, opts } = ctl(globals());
      let token: string | undefined;
      if (o.tokenEnv) {
        token = process.env[o.tokenEnv];
        if (!token) throw new CliError(ExitCode.usage, `--token-env ${o.tokenEnv}: that variable is not set`);
      }
      const r = await call<Record<string, unknown>>(ctx, 'POST', `${base}/join`, {
        ...opts,
        json: { room_url: o.roomUrl, bot: o.bot, token },
      });
      if (ctx.json) printResult(true, r);
      else process.stdout.write(details(r));
    });

  bot
    .command('leave <pid>')
    .description('ask a bot to leave (SIGTERM, then SIGKILL after the grace period)')
    .action(async (pid: string) => {
      if (!/^\d+$/.test(pid))
        throw new CliError(ExitCode.usage, 'pid must be a number (see `portcullis bot sessions`)');
      const { ctx, base, opts } = ctl(globals());
      const r = await call<Record<string, unknown>>(ctx, 'POST', `${base}/sessions/${pid}/leave`, {
        ...opts,
        notFound: `no bot session with pid ${pid}; see \`portcullis bot sessions\``,
      });
      if (ctx.json) printResult(true, r);
      else process.stdout.write(`leaving: ${details(r)}`);
    });

  bot
    .command('sessions')
    .description('list bot sessions')
    .action(async () => {
      const { ctx, base, opts } = ctl(globals());
      const r = await call<Array<Record<string, unknown>>>(ctx, 'GET', `${base}/sessions`, opts);
      printResult(ctx.json, r, r);
    });
}

/** `rooms …`: room-gateway's BYOK API; the caller's provider key goes in X-Provider-Auth and nowhere else. */
export function registerRoomCommands(program: Command, globals: () => GlobalOptions): void {
  const rooms = program
    .command('rooms')
    .description(
      'create, read and delete rooms at a provider with YOUR provider key (room-gateway, bring your own key)',
    )
    .option('--provider <name>', 'daily or livekit', 'daily')
    .option(
      '--provider-key <key>',
      'provider API key (prefer the PORTCULLIS_PROVIDER_KEY environment variable: flags end up in shell history)',
    )
    .addHelpText(
      'after',
      '\nThe key is read from --provider-key or PORTCULLIS_PROVIDER_KEY, sent only in X-Provider-Auth, and never printed.\n' +
        'Examples:\n  PORTCULLIS_PROVIDER_KEY=... portcullis rooms create --profile conversation\n' +
        '  portcullis rooms create --profile broadcast --overrides \'{"capabilities":{"chat":false}}\'\n  portcullis rooms get my-room --json\n  portcullis rooms delete my-room',
    );
  const gw = () => {
    const g = globals();
    const ctx = cliContext(g);
    const ro = rooms.opts<{ provider: string; providerKey?: string }>();
    const key = ro.providerKey ?? process.env.PORTCULLIS_PROVIDER_KEY;
    if (!key)
      throw new CliError(
        ExitCode.auth,
        'no provider key: set PORTCULLIS_PROVIDER_KEY (or pass --provider-key) to your Daily/LiveKit API key',
      );
    return {
      ctx,
      base: ctx.appUrl('room-gateway'),
      opts: {
        app: 'room-gateway',
        headers: { 'x-provider-auth': key, 'x-provider': ro.provider },
        credential: `the ${ro.provider} provider key`,
      },
    };
  };

  rooms
    .command('create')
    .description('create a room from a profile')
    .requiredOption('--profile <name>', 'conversation, broadcast, ...')
    .option('--overrides <json>', 'JSON merged over the profile')
    .action(async (o: { profile: string; overrides?: string }) => {
      let overrides: unknown;
      if (o.overrides) {
        try {
          overrides = JSON.parse(o.overrides);
        } catch {
          throw new CliError(ExitCode.usage, '--overrides must be JSON, e.g. \'{"capabilities":{"chat":false}}\'');
        }
      }
      const { ctx, base, opts } = gw();
      const r = await call<Record<string, unknown>>(ctx, 'POST', `${base}/api/rooms/create`, {
        ...opts,
        json: { profile: o.profile, overrides },
      });
      if (ctx.json) printResult(true, r);
      else process.stdout.write(details(r));
    });

  rooms
    .command('get <room_name>')
    .description("a room's details")
    .action(async (name: string) => {
      const { ctx, base, opts } = gw();
      const r = await call<Record<string, unknown>>(ctx, 'GET', `${base}/api/rooms/get/${encodeURIComponent(name)}`, {
        ...opts,
        notFound: `no room ${name} at the provider`,
      });
      if (ctx.json) printResult(true, r);
      else process.stdout.write(details(r));
    });

  rooms
    .command('delete <room_name>')
    .description('delete a room')
    .action(async (name: string) => {
      const { ctx, base, opts } = gw();
      const r = await call<Record<string, unknown>>(
        ctx,
        'DELETE',
        `${base}/api/rooms/delete/${encodeURIComponent(name)}`,
        { ...opts, notFound: `no room ${name} at the provider` },
      );
      if (ctx.json) printResult(true, r ?? { deleted: name });
      else process.stdout.write(`deleted ${name}\n`);
    });
}
