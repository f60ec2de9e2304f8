import { ConfigFileError, locateConfig } from './config';
import { DaemonStartError, runDaemon } from './runner/daemon';

/**
 * The daemon started directly (`node dist/apps/cli/src/daemon-main.js`), the way a
 * service manager would, without `portcullis start`. Started this way with no key
 * in the config file it generates one AND saves it there, so the CLI can authenticate.
 * Honours PORTCULLIS_CONFIG and the same search order as the CLI.
 */
runDaemon({ location: locateConfig() }).then(
  (d) => {
    const shutdown = () =>
      void d.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  },
  (err: unknown) => {
    const known = err instanceof ConfigFileError || err instanceof DaemonStartError;
    process.stderr.write(
      `portcullis daemon: ${known ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(known && err instanceof ConfigFileError ? 7 : 8);
  },
);
