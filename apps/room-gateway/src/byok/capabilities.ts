import { z } from 'zod';

/**
 * What a room can do, in words that mean the same on every provider. Each
 * provider adapter maps these to its own room properties (see providers/).
 */
export interface Capabilities {
  /** Text chat in the call. */
  chat: boolean;
  /** Participants may share their screen. */
  screenshare: boolean;
  /** Cloud recording may be started in this room. */
  recording: boolean;
  /** Live streaming out over RTMP may be started in this room. */
  live_streaming: boolean;
  /** Only owners/hosts publish audio and video; everyone else watches and listens. */
  owner_only_broadcast: boolean;
  /** Participants join with their camera off. */
  start_video_off: boolean;
  /** Participants join muted. */
  start_audio_off: boolean;
  /** A device-check screen before joining. */
  prejoin: boolean;
  /** Participants ask to be let in (waiting room). */
  knocking: boolean;
  /** At most this many participants at once. */
  max_participants: number;
  /** The room stops accepting participants (and ejects them) this many minutes after creation; null: never. */
  expires_in_minutes: number | null;
}

export type CapabilityName = keyof Capabilities;

export const capabilityNames: CapabilityName[] = [
  'chat',
  'screenshare',
  'recording',
  'live_streaming',
  'owner_only_broadcast',
  'start_video_off',
  'start_audio_off',
  'prejoin',
  'knocking',
  'max_participants',
  'expires_in_minutes',
];

/** A capability's "off" value: asking for it never needs provider support. */
export function isOff(name: CapabilityName, value: Capabilities[CapabilityName]): boolean {
  if (name === 'max_participants') return false;
  if (name === 'expires_in_minutes') return value === null;
  return value === false;
}

/** Overrides: every field optional, nothing else allowed (strict), types checked. */
export const capabilityOverridesSchema = z
  .object({
    chat: z.boolean(),
    screenshare: z.boolean(),
    recording: z.boolean(),
    live_streaming: z.boolean(),
    owner_only_broadcast: z.boolean(),
    start_video_off: z.boolean(),
    start_audio_off: z.boolean(),
    prejoin: z.boolean(),
    knocking: z.boolean(),
    max_participants: z.number().int().min(1).max(100_000),
    // Up to 90 days.
    expires_in_minutes: z.number().int().min(1).max(129_600).nullable(),
  })
  .partial()
  .strict();

export type CapabilityOverrides = z.infer<typeof capabilityOverridesSchema>;
