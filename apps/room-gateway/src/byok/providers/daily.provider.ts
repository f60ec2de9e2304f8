import { Capabilities } from '../capabilities';
import { callProvider } from './provider-http';
import { ProviderAdapter, RoomClient, RoomView, Support } from './provider';

/** Daily supports every capability natively. */
const SUPPORT: Support = {
  chat: true,
  screenshare: true,
  recording: true,
  // Daily has no room switch for it: a meeting owner starts it with startLiveStreaming().
  live_streaming: true,
  owner_only_broadcast: true,
  start_video_off: true,
  start_audio_off: true,
  prejoin: true,
  knocking: true,
  max_participants: true,
  expires_in_minutes: true,
};

interface DailyRoom {
  id?: string;
  name: string;
  url?: string;
  privacy?: string;
  created_at?: string;
  config?: Record<string, unknown>;
}

/** The body of POST /rooms for these capabilities (https://docs.daily.co/reference/rest-api/rooms/create-room). */
function dailyRoomRequest(name: string | undefined, caps: Capabilities, nowSeconds: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    enable_chat: caps.chat,
    enable_screenshare: caps.screenshare,
    owner_only_broadcast: caps.owner_only_broadcast,
    start_video_off: caps.start_video_off,
    start_audio_off: caps.start_audio_off,
    enable_prejoin_ui: caps.prejoin,
    enable_knocking: caps.knocking,
    max_participants: caps.max_participants,
  };
  if (caps.recording) properties.enable_recording = 'cloud';
  if (caps.expires_in_minutes !== null) {
    properties.exp = nowSeconds + caps.expires_in_minutes * 60;
    properties.eject_at_room_exp = true;
  }
  // Knocking only applies to private rooms: the waiting participant is let in by an owner.
  const body: Record<string, unknown> = { privacy: caps.knocking ? 'private' : 'public', properties };
  if (name) body.name = name;
  return body;
}

const errorText = (body: unknown): string | undefined => {
  const b = body as { info?: unknown; error?: unknown } | undefined;
  return typeof b?.info === 'string' ? b.info : typeof b?.error === 'string' ? b.error : undefined;
};

const view = (r: DailyRoom): RoomView => ({
  provider: 'daily',
  room_name: r.name,
  room_id: r.id ?? null,
  room_url: r.url ?? null,
  created_at: r.created_at ?? null,
  provider_config: { privacy: r.privacy, ...(r.config ?? {}) },
});

class DailyClient implements RoomClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
    private readonly timeoutMs: number,
  ) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callProvider<T>({
      provider: 'daily',
      method,
      url: `${this.baseUrl}${path}`,
      headers: { authorization: `Bearer ${this.key}`, accept: 'application/json' },
      body,
      timeoutMs: this.timeoutMs,
      secrets: [this.key],
      errorText,
    });
  }

  async create(name: string | undefined, caps: Capabilities): Promise<RoomView> {
    return view(
      await this.call<DailyRoom>('POST', '/rooms', dailyRoomRequest(name, caps, Math.floor(Date.now() / 1000))),
    );
  }

  async get(name: string): Promise<RoomView> {
    return view(await this.call<DailyRoom>('GET', `/rooms/${encodeURIComponent(name)}`));
  }

  async delete(name: string): Promise<void> {
    await this.call('DELETE', `/rooms/${encodeURIComponent(name)}`);
  }
}

/** Daily: `X-Provider-Auth: Bearer <Daily API key>` (or the raw key), sent on as Daily's own bearer token. */
export class DailyAdapter implements ProviderAdapter {
  readonly name = 'daily';
  readonly support = SUPPORT;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  parseKey(raw: string): { ok: true } | { ok: false; why: string } {
    return /^[\x21-\x7e]{8,512}$/.test(raw)
      ? { ok: true }
      : { ok: false, why: 'a Daily API key is 8-512 printable characters' };
  }

  client(key: string): RoomClient {
    return new DailyClient(this.baseUrl.replace(/\/+$/, ''), key, this.timeoutMs);
  }
}
