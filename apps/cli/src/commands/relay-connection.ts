import type { SignalingPeer, SignalingServerFrame } from '@portcullis/contracts';
import type { WebSocket } from 'ws';
import { CliError, ExitCode } from './exit-codes';
import type { PeerSession } from './peer-credentials';

type Signal = Extract<SignalingServerFrame, { type: 'signal' }>;

class Unauthorized extends Error {}

/** Close codes of room-gateway's relay (SignalingClose in @portcullis/contracts), as people read them. */
const CLOSE_TEXT: Record<number, string> = {
  4401: 'device token refused or expired',
  4403: 'this device is not a member of the room',
  4409: 'replaced by a newer connection of this device',
  4410: 'removed from the room',
  4411: 'device revoked',
};

/**
 * One peer's socket to `WS /signaling/rooms/:room_id/ws`. The device token goes in the
 * Authorization header (never the URL) and is renewed on the open socket as it is refreshed.
 */
export class RelayConnection {
  peers = new Map<string, SignalingPeer['role']>();
  onSignal: (s: Signal) => void = () => undefined;
  onPeerJoined: (p: SignalingPeer) => void = () => undefined;
  onPeerLeft: (id: string) => void = () => undefined;
  readonly closed: Promise<string>;
  private resolveClosed!: (why: string) => void;

  private constructor(
    private readonly ws: WebSocket,
    readonly roomId: string,
    readonly me: string,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  static async open(peer: PeerSession, roomId: string): Promise<RelayConnection> {
    try {
      return await RelayConnection.connect(peer, roomId);
    } catch (err) {
      if (!(err instanceof Unauthorized)) throw err;
      // A cached token refused: sign in afresh once.
      peer.invalidate();
      return RelayConnection.connect(peer, roomId).catch((again: unknown) => {
        throw again instanceof Unauthorized
          ? new CliError(
              ExitCode.auth,
              'room-gateway refused the device token (revoked device, or device-auth and room-gateway disagree on issuer/keys)',
            )
          : again;
      });
    }
  }

  private static async connect(peer: PeerSession, roomId: string): Promise<RelayConnection> {
    const { default: WebSocketCtor } = await import('ws');
    const url = `${peer.serverUrl.replace(/^http/, 'ws')}/signaling/rooms/${encodeURIComponent(roomId)}/ws`;
    // The relay forwards frames of at most 64 KiB (plus its envelope); anything far bigger is closed with 1009.
    const ws = new WebSocketCtor(url, {
      headers: { authorization: `Bearer ${await peer.token()}` },
      maxPayload: 1024 * 1024,
    });
    const conn = new RelayConnection(ws, roomId, peer.deviceId);
    const welcome = new Promise<void>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        if (res.statusCode === 401) return reject(new Unauthorized());
        const why =
          res.statusCode === 403
            ? `device ${peer.deviceId} is not a member of room ${roomId} (join it with a room token: --token)`
            : `HTTP ${res.statusCode}`;
        reject(
          new CliError(
            res.statusCode === 401 || res.statusCode === 403 ? ExitCode.auth : ExitCode.rejected,
            `room-gateway refused the connection: ${why}`,
          ),
        );
      });
      // on(), not once(): an error after the welcome (a reset, a bad frame from the server)
      // must end this connection ('close' follows), never the CLI as an unhandled event.
      ws.on('error', (err) =>
        reject(new CliError(ExitCode.unreachable, `cannot reach room-gateway at ${peer.serverUrl}: ${err.message}`)),
      );
      ws.on('message', (raw) => {
        let f: SignalingServerFrame;
        try {
          f = JSON.parse(raw.toString()) as SignalingServerFrame;
        } catch {
          return;
        }
        // Whatever the server sends, a frame of the wrong shape is skipped, not thrown on.
        if (typeof f !== 'object' || f === null) return;
        if (f.type === 'welcome') {
          for (const p of Array.isArray(f.peers) ? f.peers : []) conn.peers.set(p?.peer_id, p?.role);
          resolve();
        } else if (f.type === 'peer_joined' && f.peer) {
          conn.peers.set(f.peer.peer_id, f.peer.role);
          conn.onPeerJoined(f.peer);
        } else if (f.type === 'peer_left') {
          conn.peers.delete(f.peer_id);
          conn.onPeerLeft(f.peer_id);
        } else if (f.type === 'signal') conn.onSignal(f);
      });
      ws.on('close', (code, reason) => {
        conn.resolveClosed(CLOSE_TEXT[code] ?? (reason.toString() || `closed (${code})`));
        reject(new CliError(ExitCode.auth, `room-gateway closed the connection: ${CLOSE_TEXT[code] ?? code}`));
      });
    });
    await welcome;
    peer.onRefresh((token) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'auth', token })));
    return conn;
  }

  send(to: string, data: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify({ type: 'signal', to, data }));
  }

  close(): void {
    this.ws.close(1000, 'bye');
  }
}
