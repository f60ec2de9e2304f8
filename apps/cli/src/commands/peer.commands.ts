import type { Command } from 'commander';
import type {
  PskClientSession as ClientSession,
  PskFailureReason,
  PskWorkerSession as WorkerSession,
} from '@portcullis/auth/primitives';
import type { GlobalOptions } from './context';
import { CliError, ExitCode } from './exit-codes';
import { addPeerOptions, PeerOptions, PeerSession, peerSession, signalingCall } from './peer-credentials';
import { RelayConnection } from './relay-connection';

/** What a client asks a worker to do, and the answer; carried as opaque relay data after the PSK handshake. */
interface JobCommand {
  type: 'COMMAND';
  id: string;
  job: string;
  args: string[];
}
interface JobResult {
  type: 'RESULT';
  id: string;
  ok: boolean;
  output?: string;
  error?: string;
}

/** The small named jobs a worker runs. */
const JOBS: Record<string, (args: string[]) => string> = {
  echo: (args) => args.join(' '),
  sum: (args) => {
    const nums = args.map(Number);
    if (nums.some((n) => !Number.isFinite(n))) throw new Error('sum takes numbers');
    return String(nums.reduce((a, b) => a + b, 0));
  },
};

const psk = () => import('@portcullis/auth/primitives');
const firstLine = (reason: PskFailureReason, text: Record<PskFailureReason, string>) => text[reason].split('\n')[0];

async function resolveSecret(roomId: string, flag: string | undefined) {
  const { resolveRoomSecret } = await psk();
  try {
    const r = resolveRoomSecret({ roomId, flag });
    for (const w of r.warnings) process.stderr.write(`${w}\n`);
    return r;
  } catch (err) {
    throw new CliError(ExitCode.usage, err instanceof Error ? err.message : String(err));
  }
}

async function joinIfInvited(peer: PeerSession, roomId: string, token: string | undefined): Promise<void> {
  if (!token) return;
  const r = await signalingCall<{ room_id: string; role: string }>(peer, 'POST', '/signaling/rooms/join', {
    room_token: token,
  });
  if (r.room_id !== roomId)
    throw new CliError(ExitCode.usage, `the room token is for room ${r.room_id}, not ${roomId}`);
}

export function registerPeerCommands(program: Command, globals: () => GlobalOptions): void {
  addPeerOptions(
    program
      .command('worker')
      .description(
        'run a P2P worker in a signaling room: challenges every client with the room secret (PSK) before it accepts commands',
      )
      .requiredOption('--room-id <room_id>', 'room id')
      .option('--token <room_token>', 'room token to join with (not needed once this device is a member)')
      .option(
        '--room-secret <secret>',
        'room secret (prefer PORTCULLIS_ROOM_SECRET_<ROOM_ID> or ~/.portcullis/secrets/<room_id>)',
      )
      .addHelpText(
        'after',
        '\nSecret resolution: --room-secret, PORTCULLIS_ROOM_SECRET_<ROOM_ID>, ~/.portcullis/secrets/<room_id>, ~/.portcullis/credentials.json room_secrets.<room_id>.\n' +
          'No secret: legacy mode (clients are accepted without P2P authentication).\nJobs: ' +
          Object.keys(JOBS).join(', '),
      ),
  ).action(async (o: PeerOptions & { roomId: string; token?: string; roomSecret?: string }) => {
    const resolved = await resolveSecret(o.roomId, o.roomSecret);
    const { PskWorkerSession, PSK_ERROR_TEXT } = await psk();
    const peer = await peerSession(o, globals());
    await joinIfInvited(peer, o.roomId, o.token);
    const conn = await RelayConnection.open(peer, o.roomId);
    const sessions = new Map<string, WorkerSession>();
    const say = (line: string) => process.stdout.write(`${line}\n`);
    conn.onSignal = (s) => {
      if (s.role === 'worker') return; // workers do not command workers
      const data = s.data as { type?: unknown } | null;
      let session = sessions.get(s.from);
      if (data?.type === 'HELLO' || !session) {
        session?.dispose();
        session = new PskWorkerSession({
          secret: resolved.secret,
          binding: { roomId: o.roomId, workerId: peer.deviceId, clientId: s.from },
          send: (m) => conn.send(s.from, m),
          onDone: (r) => {
            if (r.ok)
              say(`client ${s.from} ${r.legacy ? 'connected (legacy mode, no P2P authentication)' : 'authenticated'}`);
            else process.stderr.write(`client ${s.from}: ${firstLine(r.reason, PSK_ERROR_TEXT)}\n`);
          },
        });
        sessions.set(s.from, session);
      }
      if (!session.accept(s.data)) return;
      const cmd = s.data as JobCommand;
      if (cmd?.type !== 'COMMAND' || typeof cmd.job !== 'string') return;
      const result: JobResult = { type: 'RESULT', id: String(cmd.id), ok: true };
      try {
        const job = JOBS[cmd.job];
        if (!job) throw new Error(`unknown job ${cmd.job}; jobs: ${Object.keys(JOBS).join(', ')}`);
        result.output = job(Array.isArray(cmd.args) ? cmd.args.map(String) : []);
        say(`client ${s.from} ran ${cmd.job}`);
      } catch (err) {
        Object.assign(result, { ok: false, error: err instanceof Error ? err.message : String(err) });
      }
      conn.send(s.from, result);
    };
    conn.onPeerLeft = (id) => {
      sessions.get(id)?.dispose();
      sessions.delete(id);
    };
    say(
      `worker ${peer.deviceId} ready in room ${o.roomId}; ` +
        (resolved.secret
          ? `P2P authentication required (room secret from ${resolved.source}: ${resolved.location})`
          : 'no room secret configured: legacy mode, clients are not authenticated'),
    );
    const stop = () => conn.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const why = await conn.closed;
    peer.stop();
    for (const s of sessions.values()) s.dispose();
    if (why !== 'bye') throw new CliError(ExitCode.auth, `room-gateway closed the connection: ${why}`);
  });

  addPeerOptions(
    program
      .command('client')
      .description(
        'connect to a worker in a signaling room, pass its PSK challenge, run a job on it and print the output',
      )
      .requiredOption('--room <room_id>', 'room id')
      .requiredOption('--job <name>', `job to run on the worker (${Object.keys(JOBS).join(', ')})`)
      .option(
        '--arg <value>',
        'job argument (repeat for more)',
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      )
      .option('--token <room_token>', 'room token to join with (not needed once this device is a member)')
      .option(
        '--room-secret <secret>',
        'room secret (prefer PORTCULLIS_ROOM_SECRET_<ROOM_ID> or ~/.portcullis/secrets/<room_id>)',
      )
      .option('--worker <device_id>', 'which worker (default: the first worker in the room)')
      .option('--wait <seconds>', 'how long to wait for a worker to be in the room', '10'),
  ).action(
    async (
      o: PeerOptions & {
        room: string;
        job: string;
        arg: string[];
        token?: string;
        roomSecret?: string;
        worker?: string;
        wait: string;
      },
    ) => {
      const resolved = await resolveSecret(o.room, o.roomSecret);
      const { PskClientSession, PSK_ERROR_TEXT } = await psk();
      const peer = await peerSession(o, globals());
      try {
        await joinIfInvited(peer, o.room, o.token);
        const conn = await RelayConnection.open(peer, o.room);
        try {
          const workerId = await findWorker(conn, o.worker, Number(o.wait) * 1000);
          const output = await new Promise<string>((resolve, reject) => {
            const id = `${Date.now()}`;
            let resultTimer: NodeJS.Timeout | undefined;
            const session: ClientSession = new PskClientSession({
              secret: resolved.secret,
              binding: { roomId: o.room, workerId, clientId: peer.deviceId },
              send: (m) => conn.send(workerId, m),
              onDone: (r) => {
                if (!r.ok) return reject(new PskFailed(PSK_ERROR_TEXT[r.reason]));
                if (r.legacy && resolved.secret)
                  process.stderr.write(
                    `WARNING: worker ${workerId} does not require P2P authentication (legacy mode: it has no room secret)\n`,
                  );
                const cmd: JobCommand = { type: 'COMMAND', id, job: o.job, args: o.arg };
                conn.send(workerId, cmd);
                resultTimer = setTimeout(
                  () => reject(new CliError(ExitCode.server, `no result from worker ${workerId} within 30 s`)),
                  30000,
                );
              },
            });
            conn.onSignal = (s) => {
              if (s.from !== workerId || !session.accept(s.data)) return;
              const res = s.data as JobResult;
              if (res?.type !== 'RESULT' || res.id !== id) return;
              clearTimeout(resultTimer);
              if (res.ok) resolve(String(res.output ?? ''));
              else reject(new CliError(ExitCode.rejected, `worker ${workerId}: ${res.error}`));
            };
            conn.onPeerLeft = (pid) =>
              pid === workerId && reject(new CliError(ExitCode.unreachable, `worker ${workerId} left the room`));
            void conn.closed.then((why) =>
              reject(new CliError(ExitCode.auth, `room-gateway closed the connection: ${why}`)),
            );
            session.start();
          });
          process.stdout.write(`${output}\n`);
        } catch (err) {
          // These texts are printed exactly as they are, without the CLI's "portcullis:" prefix.
          if (!(err instanceof PskFailed)) throw err;
          process.stderr.write(`${err.message}\n`);
          process.exitCode = ExitCode.auth;
        } finally {
          conn.close();
        }
      } finally {
        peer.stop();
      }
    },
  );
}

class PskFailed extends Error {}

function findWorker(conn: RelayConnection, wanted: string | undefined, waitMs: number): Promise<string> {
  const fits = (id: string, role: string) => role === 'worker' && (!wanted || id === wanted);
  for (const [id, role] of conn.peers) if (fits(id, role)) return Promise.resolve(id);
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new CliError(
            ExitCode.unreachable,
            `no worker${wanted ? ` ${wanted}` : ''} in room ${conn.roomId} within ${waitMs / 1000} s`,
          ),
        ),
      waitMs,
    );
    conn.onPeerJoined = (p) => {
      if (fits(p.peer_id, p.role)) {
        clearTimeout(t);
        resolve(p.peer_id);
      }
    };
  });
}
