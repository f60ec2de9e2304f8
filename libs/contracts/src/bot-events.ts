import { Subjects } from './subjects';

export type BotSessionEventType = 'started' | 'leaving' | 'ended' | 'failed';

/** A bot session's lifecycle event, as sent over SSE, WebSocket and NATS. */
export interface BotSessionEvent {
  type: BotSessionEventType;
  pid: number;
  room_url: string;
  bot: string;
  at: string;
  /** Exit code or signal for `ended` / `failed`. */
  exit_code?: number | null;
  signal?: string | null;
  reason?: string;
  request_id?: string;
}

export const BOT_EVENT_SUBJECTS: Record<BotSessionEventType, string> = {
  started: Subjects.botSessionStarted,
  leaving: Subjects.botSessionLeaving,
  ended: Subjects.botSessionEnded,
  failed: Subjects.botSessionFailed,
};

export interface BotSessionView {
  pid: number;
  room_url: string;
  bot: string;
  state: 'running' | 'leaving' | 'ended' | 'failed';
  started_at: string;
  ended_at?: string;
  exit_code?: number | null;
  signal?: string | null;
}

export interface JoinResponse {
  pid: number;
  reused: boolean;
}
