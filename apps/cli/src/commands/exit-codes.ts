/** Exit codes scripts can rely on (docs/cli.md, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** Bad flags or arguments, or an unexpected error. */
  usage: 1,
  /** The suite refused the key (401/403), or no key is configured. */
  auth: 2,
  /** The suite (or the daemon) is not reachable / not running. */
  unreachable: 3,
  /** The device, session or room does not exist (404). */
  notFound: 4,
  /** The request was refused as invalid or conflicting (400, 409, 422, 429). */
  rejected: 5,
  /** The suite or an upstream provider failed (5xx), or an app is not healthy. */
  server: 6,
  /** The config file cannot be read or parsed, or holds a bad setting. */
  config: 7,
  /** `start` gave up: the daemon exited or did not get healthy in time. */
  startFailed: 8,
} as const;

/** An error the CLI prints as one message (never a stack) and exits with its code. */
export class CliError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
