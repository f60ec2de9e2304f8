import { ConfigError } from './config/env';

/**
 * Runs an app's start function from its main.ts: a configuration problem is
 * printed as one message and exits 1 without a stack trace.
 */
export function runMain(start: () => Promise<unknown>): void {
  Promise.resolve()
    .then(start)
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
      } else {
        process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      }
      process.exit(1);
    });
}
