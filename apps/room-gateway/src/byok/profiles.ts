import { Capabilities } from './capabilities';

export interface Profile {
  name: string;
  description: string;
  capabilities: Capabilities;
}

const base: Capabilities = {
  chat: true,
  screenshare: true,
  recording: false,
  live_streaming: false,
  owner_only_broadcast: false,
  start_video_off: false,
  start_audio_off: false,
  prejoin: true,
  knocking: false,
  max_participants: 10,
  expires_in_minutes: 60,
};

const define = (name: string, description: string, caps: Partial<Capabilities>): Profile => ({
  name,
  description,
  capabilities: { ...base, ...caps },
});

/** The room profiles; the profiles table in docs/apps/room-gateway.md mirrors this list. */
export const PROFILES: Record<string, Profile> = Object.fromEntries(
  [
    define('conversation', 'A small video call where everyone talks: chat, screen share, prejoin check.', {}),
    define('broadcast', 'One or a few hosts speak to a large audience; hosts may record and stream out over RTMP.', {
      owner_only_broadcast: true,
      recording: true,
      live_streaming: true,
      start_video_off: true,
      start_audio_off: true,
      max_participants: 1000,
      expires_in_minutes: 240,
    }),
    define('webinar', 'Hosts present, attendees wait to be admitted and chat; no live stream.', {
      owner_only_broadcast: true,
      knocking: true,
      start_video_off: true,
      start_audio_off: true,
      max_participants: 200,
      expires_in_minutes: 180,
    }),
    define('audio_only', 'A voice call: cameras off, no screen share.', {
      screenshare: false,
      start_video_off: true,
      prejoin: false,
      max_participants: 25,
    }),
    define('podcast', 'A recorded conversation between a few speakers.', {
      chat: false,
      screenshare: false,
      recording: true,
      start_video_off: true,
      max_participants: 6,
      expires_in_minutes: 180,
    }),
    define('interview', 'Two or three people, admitted one at a time, no recording.', {
      knocking: true,
      max_participants: 3,
    }),
  ].map((p) => [p.name, p]),
);

export const profileNames = Object.keys(PROFILES);
