#!/usr/bin/env node
'use strict';
/*
 * The bundled bot worker (default BOT_COMMAND). It "joins" the room named by
 * BOT_ROOM_URL and stays until told to leave: SIGTERM is a graceful leave,
 * and losing its parent (the IPC channel closes) ends it too, so a crashed
 * bot-control never leaves orphans behind. The room token arrives in the
 * environment, never on the command line where `ps` would show it.
 */
const room = process.env.BOT_ROOM_URL || '';
const bot = process.env.BOT_NAME || 'default';
const hasToken = Boolean(process.env.BOT_ROOM_TOKEN);
delete process.env.BOT_ROOM_TOKEN;

const say = (event, extra) =>
  process.stdout.write(
    JSON.stringify({ event, bot, room, pid: process.pid, at: new Date().toISOString(), ...extra }) + '\n',
  );

say('joined', { token: hasToken ? 'provided' : 'none' });
const heartbeat = setInterval(() => say('heartbeat'), 30000);

let leaving = false;
function leave(reason) {
  if (leaving) return;
  leaving = true;
  clearInterval(heartbeat);
  say('leaving', { reason });
  // A real bot says goodbye to the room here; keep it short and bounded.
  setTimeout(() => process.exit(0), 50);
}
process.on('SIGTERM', () => leave('sigterm'));
process.on('SIGINT', () => leave('sigint'));
process.on('disconnect', () => leave('parent_gone'));
