/**
 * room-gateway's signaling relay: the envelopes on `WS /signaling/rooms/:room_id/ws`.
 * `data` is opaque to the relay: PSK messages and peer commands travel inside it untouched.
 */
export type SignalingRole = 'owner' | 'worker' | 'client';

export interface SignalingPeer {
  peer_id: string;
  role: SignalingRole;
}

/** Peer -> relay. `auth` is only valid as the first message (when no Authorization header was sent on upgrade). */
/** @public the message contract, for clients written outside this repository */
export type SignalingClientFrame = { type: 'auth'; token: string } | { type: 'signal'; to?: string; data: unknown };

/** Relay -> peer. */
export type SignalingServerFrame =
  | { type: 'welcome'; room_id: string; peer_id: string; role: SignalingRole; peers: SignalingPeer[] }
  | { type: 'peer_joined'; peer: SignalingPeer }
  | { type: 'peer_left'; peer_id: string }
  | { type: 'signal'; from: string; role: SignalingRole; data: unknown }
  | { type: 'error'; detail: string };

/** WebSocket close codes the relay uses (4000-4999 is the application range). */
export const SignalingClose = {
  unauthorized: 4401,
  notMember: 4403,
  roomNotFound: 4404,
  removed: 4410,
  revoked: 4411,
  replaced: 4409,
  badFrame: 4400,
} as const;

export interface SignalingRoomView {
  room_id: string;
  name: string | null;
  owner_id: string;
  created_at: string;
}

export interface SignalingMemberView {
  device_id: string;
  role: SignalingRole;
  joined_at: string;
  connected: boolean;
}

export interface RoomTokenView {
  room_token: string;
  room_id: string;
  role: 'worker' | 'client';
  single_use: boolean;
  expires_at: string;
}

/** NATS subjects of the signaling feature (room-gateway replicas tell each other). */
export const SignalingSubjects = {
  /** A member was removed: every replica closes that member's sockets in that room. */
  memberRemoved: 'portcullis.signaling.member.removed',
} as const;

export interface SignalingMemberRemovedEvent {
  room_id: string;
  device_id: string;
  removed_at: string;
}
