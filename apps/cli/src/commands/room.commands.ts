import type { Command } from 'commander';
import type { RoomTokenView, SignalingMemberView, SignalingRoomView } from '@portcullis/contracts';
import type { GlobalOptions } from './context';
import { CliError, ExitCode } from './exit-codes';
import { details, printResult } from './output';
import { addPeerOptions, PeerOptions, peerSession, signalingCall } from './peer-credentials';

/** Loaded on use, so `portcullis --help` does not pay for node:crypto work. */
const psk = () => import('@portcullis/auth/primitives');

/**
 * `room …`: room secrets on this machine, and signaling rooms on room-gateway
 * (as a device: see peer-credentials.ts). Not to be confused with `rooms`, the BYOK provider rooms.
 */
export function registerSignalingRoomCommands(program: Command, globals: () => GlobalOptions): void {
  const room = program
    .command('room')
    .description(
      'signaling rooms for P2P workers and clients (room-gateway, device token) and their pre-shared secrets',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  portcullis room create-secret --room rm_… --save        # 32 random bytes into ~/.portcullis/credentials.json (0600)\n' +
        '  portcullis room secret-source --room rm_…             # which source the worker/client would use\n' +
        '  PORTCULLIS_DEVICE_ID=… PORTCULLIS_DEVICE_SECRET=… portcullis room create --name lab\n' +
        '  portcullis room invite --room rm_… --role worker --single-use\n  portcullis room join --token <room token>\n' +
        '  portcullis room members --room rm_…\n  portcullis room remove --room rm_… --device pi_…',
    );

  room
    .command('create-secret')
    .description(
      'generate a room secret (32 random bytes, hex) and save it to ~/.portcullis/credentials.json (--no-save: print it only)',
    )
    .requiredOption('--room <room_id>', 'room id')
    .option('--save', 'save it to the credentials file (the default)')
    .option('--no-save', 'only print it')
    .action(async (o: { room: string; save?: boolean }) => {
      const { assertSafeRoomId, generateRoomSecret, saveRoomSecret } = await psk();
      guard(() => assertSafeRoomId(o.room));
      const secret = generateRoomSecret();
      if (o.save === false) {
        process.stdout.write(`Generated secret: ${secret}\n`);
        return;
      }
      const path = saveRoomSecret(o.room, secret);
      process.stdout.write(
        `Saved a new secret for room ${o.room} to ${path} (room_secrets.${o.room}, mode 0600).\n` +
          'Give the same secret to the worker and every client (file, environment variable or --room-secret).\n',
      );
    });

  room
    .command('secret-source')
    .description('which source the room secret would come from (never the value)')
    .requiredOption('--room <room_id>', 'room id')
    .option('--room-secret <secret>', 'as the worker/client would be given it')
    .action(async (o: { room: string; roomSecret?: string }) => {
      const { resolveRoomSecret } = await psk();
      const r = guard(() => resolveRoomSecret({ roomId: o.room, flag: o.roomSecret }));
      for (const w of r.warnings) process.stderr.write(`${w}\n`);
      const out = { room_id: o.room, source: r.source, location: r.location ?? null };
      if (globals().json) printResult(true, out);
      else if (r.source === 'none')
        process.stdout.write(`none: no secret configured for ${o.room} (legacy mode: no P2P authentication)\n`);
      else process.stdout.write(`${r.source}: ${r.location}\n`);
    });

  const device = (cmd: Command) => addPeerOptions(cmd);
  const withPeer = async <T>(
    o: PeerOptions,
    fn: (p: Awaited<ReturnType<typeof peerSession>>) => Promise<T>,
  ): Promise<T> => {
    const peer = await peerSession(o, globals());
    try {
      return await fn(peer);
    } finally {
      peer.stop();
    }
  };

  device(
    room
      .command('create')
      .description('create a signaling room; you (this device) are its owner')
      .option('--name <name>', 'a label for people'),
  ).action((o: PeerOptions & { name?: string }) =>
    withPeer(o, async (p) => {
      const r = await signalingCall<SignalingRoomView>(p, 'POST', '/signaling/rooms', { name: o.name });
      if (globals().json) printResult(true, r);
      else process.stdout.write(details(r as unknown as Record<string, unknown>));
    }),
  );

  device(
    room
      .command('invite')
      .description('issue a room token: a signed, expiring invitation for a worker or a client (owner only)')
      .requiredOption('--room <room_id>', 'room id')
      .requiredOption('--role <role>', 'worker or client')
      .option('--single-use', 'the token joins one device, once')
      .option('--ttl <seconds>', 'lifetime in seconds', '86400'),
  ).action((o: PeerOptions & { room: string; role: string; singleUse?: boolean; ttl: string }) =>
    withPeer(o, async (p) => {
      if (o.role !== 'worker' && o.role !== 'client')
        throw new CliError(ExitCode.usage, '--role must be worker or client');
      const r = await signalingCall<RoomTokenView>(
        p,
        'POST',
        `/signaling/rooms/${encodeURIComponent(o.room)}/tokens`,
        { role: o.role, single_use: Boolean(o.singleUse), ttl_seconds: Number(o.ttl) },
        `no room ${o.room} (or you are not in it)`,
      );
      if (globals().json) printResult(true, r);
      else process.stdout.write(`${r.room_token}\n`);
    }),
  );

  device(
    room
      .command('join')
      .description('join a room with a room token')
      .option('--token <room_token>', 'room token (default: $PORTCULLIS_ROOM_TOKEN)'),
  ).action((o: PeerOptions & { token?: string }) =>
    withPeer(o, async (p) => {
      const token = o.token ?? process.env.PORTCULLIS_ROOM_TOKEN;
      if (!token) throw new CliError(ExitCode.usage, 'no room token: pass --token or set PORTCULLIS_ROOM_TOKEN');
      const r = await signalingCall<{ room_id: string; role: string }>(p, 'POST', '/signaling/rooms/join', {
        room_token: token,
      });
      if (globals().json) printResult(true, r);
      else process.stdout.write(`joined ${r.room_id} as ${r.role}\n`);
    }),
  );

  device(room.command('members').description("a room's members").requiredOption('--room <room_id>', 'room id')).action(
    (o: PeerOptions & { room: string }) =>
      withPeer(o, async (p) => {
        const r = await signalingCall<SignalingMemberView[]>(
          p,
          'GET',
          `/signaling/rooms/${encodeURIComponent(o.room)}/members`,
          undefined,
          `no room ${o.room} (or you are not in it)`,
        );
        printResult(globals().json ?? false, r, r as unknown as Array<Record<string, unknown>>, [
          'device_id',
          'role',
          'connected',
          'joined_at',
        ]);
      }),
  );

  device(
    room
      .command('remove')
      .description('remove a member (owner; or yourself): its open connections close at once')
      .requiredOption('--room <room_id>', 'room id')
      .requiredOption('--device <device_id>', 'member to remove'),
  ).action((o: PeerOptions & { room: string; device: string }) =>
    withPeer(o, async (p) => {
      const r = await signalingCall<{ removed: string }>(
        p,
        'DELETE',
        `/signaling/rooms/${encodeURIComponent(o.room)}/members/${encodeURIComponent(o.device)}`,
        undefined,
        `no member ${o.device} in ${o.room}`,
      );
      if (globals().json) printResult(true, r);
      else process.stdout.write(`removed ${r.removed} from ${o.room}\n`);
    }),
  );

  device(room.command('list').description('rooms this device is a member of')).action((o: PeerOptions) =>
    withPeer(o, async (p) => {
      const r = await signalingCall<SignalingRoomView[]>(p, 'GET', '/signaling/rooms');
      printResult(globals().json ?? false, r, r as unknown as Array<Record<string, unknown>>, [
        'room_id',
        'name',
        'owner_id',
        'created_at',
      ]);
    }),
  );
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError(ExitCode.usage, err instanceof Error ? err.message : String(err));
  }
}
