import { Command, CommanderError } from 'commander';
import { registerDaemonCommands } from './commands/daemon.commands';
import { CliError, ExitCode } from './commands/exit-codes';
import { GlobalOptions } from './commands/context';
import { registerBotCommands, registerDeviceCommands, registerRoomCommands } from './commands/resource.commands';
import { registerSignalingRoomCommands } from './commands/room.commands';
import { registerPeerCommands } from './commands/peer.commands';

const program = new Command('portcullis')
  .description(
    'Operate the Portcullis suite: the all-in-one daemon and its admin APIs.\nConfig file: ./portcullis.toml, ~/.config/portcullis/portcullis.toml, ~/.portcullis.toml (first found), or --config / PORTCULLIS_CONFIG.',
  )
  .option('--config <path>', 'config file to use (default: search order above)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    '\nExamples:\n  portcullis start                 # generate + save the admin key, start every app, print URLs\n' +
      '  portcullis status                # health, config file, key fingerprints\n' +
      '  portcullis device register --customer acme\n  portcullis logs -f\n\n' +
      'Exit codes: 0 ok, 1 usage, 2 auth, 3 not reachable/not running, 4 not found, 5 rejected, 6 server error, 7 config file problem, 8 start failed.',
  );

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
registerDaemonCommands(program, globals);
registerDeviceCommands(program, globals);
registerBotCommands(program, globals);
registerRoomCommands(program, globals);
registerSignalingRoomCommands(program, globals);
registerPeerCommands(program, globals);
for (const c of program.commands) c.exitOverride();

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version are "errors" to commander; usage problems were already printed.
    process.exit(err.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  }
  if (err instanceof CliError) {
    process.stderr.write(`portcullis: ${err.message}\n`);
    process.exit(err.code);
  }
  process.stderr.write(`portcullis: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(ExitCode.usage);
});
