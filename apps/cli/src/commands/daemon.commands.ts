import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, watchFile } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigFileError, ensureSecrets, locateConfig } from '../config';
import { DaemonState, isAlive, readPid, readState, runtimePaths } from '../runner/state';
import { ADMIN_KEY_HEADER, cliContext, GlobalOptions, keyFingerprint } from './context';
import { CliError, ExitCode } from './exit-codes';
import { details, table } from './output';

const MAIN_JS = join(__dirname, '..', 'main.js');

export function registerDaemonCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('start')
    .description('start every app of the suite in the background (generates and saves the admin key first)')
    .option('--foreground', 'run in this terminal instead (what `npm start` does); Ctrl-C stops it')
    .addHelpText(
      'after',
      '\nExamples:\n  portcullis start\n  portcullis start --foreground\n  portcullis --config ./dev.toml start',
    )
    .action(async (o: { foreground?: boolean }) => start(globals(), Boolean(o.foreground)));

  program
    .command('stop')
    .description('stop the background daemon')
    .action(async () => stop(globals()));

  program
    .command('status')
    .description(
      "each app's health, the config file in use, and whether this CLI's key is the daemon's (by fingerprint)",
    )
    .addHelpText(
      'after',
      '\nExit code 0 when everything is up and the keys match, 2 on a key mismatch, 3 when not running, 6 when an app is unhealthy.',
    )
    .action(async () => status(globals()));

  program
    .command('logs')
    .description("print the background daemon's log")
    .option('-n, --lines <n>', 'how many of the last lines', '100')
    .option('-f, --follow', 'keep printing new lines')
    .action(async (o: { lines: string; follow?: boolean }) => logs(globals(), Number(o.lines), Boolean(o.follow)));

  program
    .command('daemon', { hidden: true })
    .description('run the daemon in this process (same as start --foreground)')
    .action(async () => start(globals(), true));
}

function ensure(g: GlobalOptions): ReturnType<typeof ensureSecrets> {
  const location = locateConfig({ flag: g.config });
  try {
    return ensureSecrets(location);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError(ExitCode.config, err.message);
    throw err;
  }
}

async function start(g: GlobalOptions, foreground: boolean): Promise<void> {
  // The key is saved to the file before any daemon reads it, so CLI and daemon agree.
  const { loaded, generated } = ensure(g);
  const cfg = loaded.config;
  for (const w of loaded.warnings) process.stderr.write(`${w}\n`);
  for (const x of generated)
    process.stderr.write(`Generated ${x.setting} (${x.fingerprint}) and saved it to ${cfg.file.path}\n`);
  if (foreground) {
    // Loaded only here: the apps (and Nest) are the daemon's business, not every command's.
    const { DaemonStartError, runDaemon } = await import('../runner/daemon');
    let d;
    try {
      d = await runDaemon({
        location: loaded.location,
        onReady: (s) => process.stderr.write(readyText(s, cfg.file.path)),
      });
    } catch (err) {
      if (err instanceof DaemonStartError) throw new CliError(ExitCode.startFailed, err.message);
      if (err instanceof ConfigFileError) throw new CliError(ExitCode.config, err.message);
      throw err;
    }
    const shutdown = () =>
      void d.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    return new Promise(() => undefined); // runs until a signal
  }
  const running = readState(cfg.dataDir);
  if (running && isAlive(running.pid)) {
    process.stdout.write(`already running (pid ${running.pid})\n${readyText(running, cfg.file.path)}`);
    return;
  }
  const paths = runtimePaths(cfg.dataDir);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const out = openSync(paths.log, 'a', 0o600);
  const startedAt = Date.now();
  const child = spawn(process.execPath, [MAIN_JS, '--config', cfg.file.path, 'daemon'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  closeSync(out);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  const until = startedAt + cfg.readyTimeoutSeconds * 1000 + 5000;
  for (;;) {
    const s = readState(cfg.dataDir);
    if (s && s.pid === child.pid && s.ready) {
      process.stdout.write(readyText(s, cfg.file.path));
      return;
    }
    if (exited !== undefined || (child.pid && !isAlive(child.pid))) {
      throw new CliError(
        ExitCode.startFailed,
        `the daemon exited during start. Last log lines (${paths.log}):\n${tail(paths.log, 15, startedAt)}`,
      );
    }
    if (Date.now() > until) {
      throw new CliError(
        ExitCode.startFailed,
        `the daemon (pid ${child.pid}) was not ready after ${cfg.readyTimeoutSeconds} s; it is still running. See \`portcullis logs\`, then \`portcullis stop\`.`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readyText(s: DaemonState, configFile: string): string {
  const lines = [
    `portcullis is running (pid ${s.pid})`,
    `  config file  ${configFile}`,
    `  admin key    ${s.key_fingerprint} (fingerprint; the key is in the config file)`,
    `  control      ${s.control_url}`,
    ...s.apps.map((a) => `  ${a.name.padEnd(16)}${a.url}`),
    ...s.not_started.map((a) => `  ${a.name.padEnd(16)}not started: ${a.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The last lines of the log written since `since` (the log file is appended to by every run). */
function tail(path: string, n: number, since = 0): string {
  try {
    if (statSync(path).mtimeMs < since - 1000) return '(no new lines)';
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log file)';
  }
}

async function stop(g: GlobalOptions): Promise<void> {
  const ctx = cliContext(g);
  const dataDir = ctx.loaded.config.dataDir;
  const pid = readPid(dataDir) ?? readState(dataDir)?.pid;
  if (!pid || !isAlive(pid)) {
    process.stdout.write(`not running (no daemon for ${ctx.loaded.location.path})\n`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 30000;
  while (isAlive(pid)) {
    if (Date.now() > until)
      throw new CliError(
        ExitCode.server,
        `the daemon (pid ${pid}) did not stop within 30 s; see \`portcullis logs\`, or end it with: kill -9 ${pid}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(`stopped (pid ${pid})\n`);
}

async function status(g: GlobalOptions): Promise<void> {
  const ctx = cliContext(g);
  const cfg = ctx.loaded.config;
  const cliKeyFp = keyFingerprint(cfg.apiKey);
  const controlUrl =
    ctx.daemon?.control_url ?? `http://${cfg.ipcHost === '0.0.0.0' ? '127.0.0.1' : cfg.ipcHost}:${cfg.ipcPort}`;
  const report: Record<string, unknown> = {
    config_file: ctx.loaded.location.path,
    config_origin: ctx.loaded.location.origin,
    cli_key_fingerprint: cliKeyFp,
  };
  const health = await fetch(`${controlUrl}/health`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!health) {
    report.running = false;
    if (ctx.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const where =
      ctx.daemon || cfg.ipcPort !== 0 ? `no daemon answers at ${controlUrl}` : `no daemon found in ${cfg.dataDir}`;
    throw new CliError(
      ExitCode.unreachable,
      `not running: ${where} (config file ${ctx.loaded.location.path}). Start it with \`portcullis start\`.`,
    );
  }
  report.running = true;
  const res = await fetch(`${controlUrl}/daemon/status`, {
    headers: cfg.apiKey ? { [ADMIN_KEY_HEADER]: cfg.apiKey } : {},
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  const keyMatches = res.ok;
  const daemonStatus = res.ok ? (body as unknown as DaemonState & { previous_key?: unknown }) : undefined;
  report.daemon_pid = daemonStatus?.pid ?? ctx.daemon?.pid;
  report.daemon_config_file = daemonStatus?.config_file ?? ctx.daemon?.config_file;
  report.daemon_key_fingerprint = daemonStatus?.key_fingerprint ?? ctx.daemon?.key_fingerprint;
  report.key_matches = keyMatches;
  if (daemonStatus?.previous_key) report.daemon_previous_key = daemonStatus.previous_key;
  const apps = daemonStatus?.apps ?? ctx.daemon?.apps ?? [];
  const rows = await Promise.all(
    apps.map(async (a) => {
      const r = await fetch(`${a.url}/health/ready`, { signal: AbortSignal.timeout(5000) }).then(
        (x) => (x.ok ? 'ready' : `not ready (${x.status})`),
        () => 'unreachable',
      );
      return { app: a.name, url: a.url, health: r };
    }),
  );
  report.apps = rows;
  report.not_started = daemonStatus?.not_started ?? ctx.daemon?.not_started ?? [];
  if (ctx.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(
      details({
        'config file': `${ctx.loaded.location.path} (${ctx.loaded.location.origin === 'search' ? 'found by search' : ctx.loaded.location.origin === 'default' ? 'default location, not created yet' : `from ${ctx.loaded.location.origin === 'flag' ? '--config' : 'PORTCULLIS_CONFIG'}`})`,
        daemon: `running, pid ${String(report.daemon_pid ?? '?')}, ${controlUrl}`,
        'daemon config': report.daemon_config_file ?? '(unknown: the daemon refused this key)',
        'admin key': keyMatches
          ? `matches (${cliKeyFp})`
          : `MISMATCH: this CLI has ${cliKeyFp}, the daemon ${String(report.daemon_key_fingerprint ?? 'another key')}`,
      }),
    );
    process.stdout.write(`\n${table(rows, ['app', 'url', 'health'])}`);
    for (const n of report.not_started as Array<{ name: string; reason: string }>)
      process.stdout.write(`${n.name}: not started (${n.reason})\n`);
  }
  if (!keyMatches) {
    const hint = typeof body.hint === 'string' ? `${body.hint}. ` : '';
    throw new CliError(
      ExitCode.auth,
      `the daemon refuses this CLI's admin key. ${hint}This CLI read ${ctx.loaded.location.path}. Point both at one file (--config or PORTCULLIS_CONFIG), or restart the daemon from this file: portcullis stop && portcullis start`,
    );
  }
  if (rows.some((r) => r.health !== 'ready'))
    throw new CliError(ExitCode.server, 'some apps are not ready; see `portcullis logs`');
}

async function logs(g: GlobalOptions, n: number, follow: boolean): Promise<void> {
  if (!Number.isInteger(n) || n < 0) throw new CliError(ExitCode.usage, '--lines must be a whole number');
  const ctx = cliContext(g);
  const path = runtimePaths(ctx.loaded.config.dataDir).log;
  if (!existsSync(path)) {
    throw new CliError(
      ExitCode.unreachable,
      `no log file at ${path}: no daemon was started in the background with ${ctx.loaded.location.path} (a foreground daemon logs to its terminal).`,
    );
  }
  const text = readFileSync(path, 'utf8');
  const lines = text.trimEnd().split('\n');
  if (n > 0 && text.length) process.stdout.write(`${lines.slice(-n).join('\n')}\n`);
  if (!follow) return;
  let offset = Buffer.byteLength(text);
  await new Promise<void>(() => {
    watchFile(path, { interval: 250 }, () => {
      const buf = readFileSync(path);
      if (buf.length < offset) offset = 0;
      process.stdout.write(buf.subarray(offset));
      offset = buf.length;
    });
  });
}
