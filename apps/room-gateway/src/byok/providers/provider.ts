import { HttpException, HttpStatus } from '@nestjs/common';
import { Capabilities, CapabilityName } from '../capabilities';

/** A room as every provider reports it. */
export interface RoomView {
  provider: string;
  room_name: string;
  room_id: string | null;
  /** Where participants join; null when the provider has no hosted room page (LiveKit). */
  room_url: string | null;
  created_at: string | null;
  /** The provider's own room settings, as it reported them. */
  provider_config: Record<string, unknown>;
}

/** Per capability: whether the provider can apply a value other than "off". */
export type Support = Record<CapabilityName, boolean>;

/** One provider's client, made per request with the caller's credentials, never kept. */
export interface RoomClient {
  create(name: string | undefined, caps: Capabilities, profile: string): Promise<RoomView>;
  get(name: string): Promise<RoomView>;
  delete(name: string): Promise<void>;
}

export interface ProviderAdapter {
  readonly name: string;
  readonly support: Support;
  /** Checks the shape of the caller's key (never its validity: only the provider knows that). */
  parseKey(raw: string): { ok: true } | { ok: false; why: string };
  client(key: string): RoomClient;
}

export type ProviderFailure =
  'rejected_key' | 'not_found' | 'rate_limited' | 'conflict' | 'bad_request' | 'unavailable';

/**
 * A provider answer mapped to what the caller sees: 401/403 -> 401,
 * 404 -> 404, 429 -> 429 with the provider's Retry-After, 5xx or no answer -> 502.
 * `message` is already scrubbed of the key.
 */
export class ProviderError extends HttpException {
  readonly headers: Record<string, string>;

  constructor(
    readonly failure: ProviderFailure,
    message: string,
    retryAfter?: string,
  ) {
    super({ detail: message }, STATUS[failure]);
    this.headers = retryAfter ? { 'Retry-After': retryAfter } : {};
  }
}

const STATUS: Record<ProviderFailure, number> = {
  rejected_key: HttpStatus.UNAUTHORIZED,
  not_found: HttpStatus.NOT_FOUND,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  conflict: HttpStatus.CONFLICT,
  bad_request: HttpStatus.BAD_REQUEST,
  unavailable: HttpStatus.BAD_GATEWAY,
};
