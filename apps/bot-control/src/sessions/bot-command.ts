import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const BOT_WORKER = 'apps/bot-control/bot/bot-worker.js';

/** The bundled bot worker: in the nearest folder up from here (sources or dist/) that holds it. */
function bundledWorker(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, BOT_WORKER))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot locate the Portcullis installation (${BOT_WORKER})`);
    dir = up;
  }
  return join(dir, BOT_WORKER);
}

function defaultBotCommand(): string[] {
  return [process.execPath, bundledWorker()];
}

/**
 * BOT_COMMAND as argv: a JSON array (`["python3","-m","bot"]`) or words
 * separated by spaces. No shell runs it, so the pid is the bot's own.
 */
export function parseBotCommand(cmd: string | undefined): string[] {
  if (!cmd) return defaultBotCommand();
  const trimmed = cmd.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.length || !parsed.every((a) => typeof a === 'string')) {
      throw new Error('BOT_COMMAND: a JSON array of strings is expected');
    }
    return parsed;
  }
  return trimmed.split(/\s+/);
}
