import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { Capabilities } from '../capabilities';
import { callProvider } from './provider-http';
import { ProviderAdapter, ProviderError, RoomClient, RoomView, Support } from './provider';

/**
 * LiveKit rooms have a participant cap and free-form metadata; chat, screen
 * share, owner-only publishing and start-muted are enforced by the app's
 * clients and participant token grants, so they travel in the room metadata.
 * Recording and streaming need egress with storage the gateway does not have,
 * and LiveKit has no prejoin page, waiting room or room expiry.
 */
const SUPPORT: Support = {
  chat: true,
  screenshare: true,
  recording: false,
  live_streaming: false,
  owner_only_broadcast: true,
  start_video_off: true,
  start_audio_off: true,
  prejoin: false,
  knocking: false,
  max_participants: true,
  expires_in_minutes: false,
};

const LIVEKIT_SERVICE = 'livekit.RoomService';
/** The SDKs sign service tokens for 10 minutes; one request needs far less. */
const TOKEN_TTL_SECONDS = 600;

interface VideoGrant {
  roomCreate?: boolean;
  roomList?: boolean;
  roomAdmin?: boolean;
  room?: string;
}

interface LiveKitRoom {
  sid?: string;
  name: string;
  maxParticipants?: number;
  max_participants?: number;
  emptyTimeout?: number;
  empty_timeout?: number;
  creationTime?: string | number;
  creation_time?: string | number;
  metadata?: string;
}

/** The body of CreateRoom for these capabilities. */
function livekitRoomRequest(name: string, caps: Capabilities, profile: string): Record<string, unknown> {
  const clientEnforced = {
    chat: caps.chat,
    screenshare: caps.screenshare,
    owner_only_broadcast: caps.owner_only_broadcast,
    start_video_off: caps.start_video_off,
    start_audio_off: caps.start_audio_off,
  };
  return {
    name,
    maxParticipants: caps.max_participants,
    metadata: JSON.stringify({ portcullis: { profile, capabilities: clientEnforced } }),
  };
}

/** An access token for the room service, as LiveKit's server SDKs build it: HS256, iss = API key, a video grant. */
async function livekitServiceToken(apiKey: string, apiSecret: string, grant: VideoGrant): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ video: grant })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(apiKey)
    .setNotBefore(now)
    .setExpirationTime(now + TOKEN_TTL_SECONDS)
    .sign(new TextEncoder().encode(apiSecret));
}

const errorText = (body: unknown): string | undefined => {
  const b = body as { msg?: unknown; code?: unknown } | undefined;
  return typeof b?.msg === 'string' ? b.msg : typeof b?.code === 'string' ? b.code : undefined;
};

const view = (r: LiveKitRoom): RoomView => {
  const created = Number(r.creationTime ?? r.creation_time);
  return {
    provider: 'livekit',
    room_name: r.name,
    room_id: r.sid ?? null,
    room_url: null,
    created_at: Number.isFinite(created) && created > 0 ? new Date(created * 1000).toISOString() : null,
    provider_config: {
      max_participants: r.maxParticipants ?? r.max_participants,
      empty_timeout: r.emptyTimeout ?? r.empty_timeout,
      metadata: r.metadata,
    },
  };
};

class LiveKitClient implements RoomClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly apiSecret: string,
    private readonly timeoutMs: number,
  ) {}

  private async call<T>(method: string, grant: VideoGrant, body: unknown): Promise<T> {
    const token = await livekitServiceToken(this.apiKey, this.apiSecret, grant);
    return callProvider<T>({
      provider: 'livekit',
      method: 'POST',
      url: `${this.baseUrl}/twirp/${LIVEKIT_SERVICE}/${method}`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      body,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiSecret, this.apiKey, token],
      errorText,
    });
  }

  async create(name: string | undefined, caps: Capabilities, profile: string): Promise<RoomView> {
    const roomName = name ?? `room-${randomBytes(8).toString('hex')}`;
    return view(
      await this.call<LiveKitRoom>('CreateRoom', { roomCreate: true }, livekitRoomRequest(roomName, caps, profile)),
    );
  }

  async get(name: string): Promise<RoomView> {
    const res = await this.call<{ rooms?: LiveKitRoom[] }>('ListRooms', { roomList: true }, { names: [name] });
    const room = (res?.rooms ?? []).find((r) => r.name === name);
    if (!room) throw new ProviderError('not_found', 'room not found at livekit');
    return view(room);
  }

  async delete(name: string): Promise<void> {
    await this.call('DeleteRoom', { roomCreate: true }, { room: name });
  }
}

/**
 * LiveKit: `X-Provider-Auth: Bearer <api_key>:<api_secret>` (or without "Bearer ").
 * The gateway signs a short service token with the secret for each call; the
 * secret itself is never sent anywhere.
 */
export class LiveKitAdapter implements ProviderAdapter {
  readonly name = 'livekit';
  readonly support = SUPPORT;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  parseKey(raw: string): { ok: true } | { ok: false; why: string } {
    const i = raw.indexOf(':');
    const ok = i > 0 && i < raw.length - 1 && /^[\x21-\x7e]{3,1024}$/.test(raw);
    return ok ? { ok: true } : { ok: false, why: 'a LiveKit key is "<api_key>:<api_secret>"' };
  }

  client(key: string): RoomClient {
    const i = key.indexOf(':');
    return new LiveKitClient(this.baseUrl, key.slice(0, i), key.slice(i + 1), this.timeoutMs);
  }
}

/** LiveKit's URLs are often given as ws(s)://; its HTTP API lives at the same host. */
export function livekitHttpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}
