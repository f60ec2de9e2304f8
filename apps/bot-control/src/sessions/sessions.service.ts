import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { BotSessionView, JoinResponse } from '@portcullis/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BotControlConfig } from '../config';
import { BotEventsService } from '../events/bot-events.service';
import { parseBotCommand } from './bot-command';
import { JoinDto } from './join.dto';

interface Session {
  view: BotSessionView;
  child: ChildProcess;
  exited: Promise<void>;
  killTimer?: NodeJS.Timeout;
  /** Set when we asked it to stop, so its exit is "ended", not "failed". */
  stopRequested: boolean;
}

/** How long ended sessions stay visible in GET /sessions. */
const KEEP_ENDED = 100;

@Injectable()
export class SessionsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionsService.name);
  private readonly sessions = new Map<number, Session>();
  private readonly liveByRoom = new Map<string, number>();
  private readonly command: string[];

  constructor(
    private readonly cfg: BotControlConfig,
    private readonly events: BotEventsService,
  ) {
    this.command = parseBotCommand(cfg.botCommand);
  }

  join(dto: JoinDto, requestId?: string): Promise<JoinResponse> {
    const room = new URL(dto.room_url).href;
    const existing = this.liveByRoom.get(room);
    if (existing !== undefined) return Promise.resolve({ pid: existing, reused: true });
    if (this.liveCount() >= this.cfg.maxSessions) {
      throw new ServiceUnavailableException({ detail: 'bot session limit reached' });
    }
    return this.spawnBot(room, dto.bot ?? 'default', dto.token, requestId);
  }

  private spawnBot(room: string, bot: string, token: string | undefined, requestId?: string): Promise<JoinResponse> {
    const [cmd, ...args] = this.command;
    const env: NodeJS.ProcessEnv = { ...process.env, BOT_ROOM_URL: room, BOT_NAME: bot };
    if (token) env.BOT_ROOM_TOKEN = token;
    // Do not hand the control server's own secrets down to a bot.
    for (const k of Object.keys(env)) if (/SECRET|API_KEY|PEPPER|PRIVATE/i.test(k)) delete env[k];
    return new Promise((resolve, reject) => {
      // No IPC channel: Node parses whatever a child writes to it as JSON, and a line that
      // is not JSON throws inside Node's channel reader, ending this whole process.
      const child = spawn(cmd, [...args, '--room-url', room, '--bot', bot], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let started = false;
      // 'error' also comes later (a signal that cannot be delivered); it must never go unheard.
      child.on('error', (err) => {
        if (started) {
          this.logger.warn({ err: err.message, pid: child.pid, room_url: room }, 'bot process error');
          return;
        }
        this.logger.error({ err: err.message, room_url: room }, 'bot failed to start');
        this.events.publish({
          type: 'failed',
          pid: child.pid ?? 0,
          room_url: room,
          bot,
          reason: 'spawn_error',
          request_id: requestId,
        });
        reject(new ServiceUnavailableException({ detail: 'bot could not be started' }));
      });
      child.once('spawn', () => {
        started = true;
        const pid = child.pid as number;
        const session: Session = {
          child,
          stopRequested: false,
          view: { pid, room_url: room, bot, state: 'running', started_at: new Date().toISOString() },
          exited: new Promise((done) => child.once('exit', () => done())),
        };
        this.sessions.set(pid, session);
        this.liveByRoom.set(room, pid);
        this.drainOutput(child, pid);
        child.once('exit', (code, signal) => this.reap(session, code, signal));
        this.events.publish({ type: 'started', pid, room_url: room, bot, request_id: requestId });
        resolve({ pid, reused: false });
      });
    });
  }

  /** Bot output goes to debug logs line by line; reading it also keeps the pipe from filling up. */
  private drainOutput(child: ChildProcess, pid: number): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      // A pipe can fail (the child closing it oddly); that ends its output, not bot-control.
      stream.on('error', (err) => this.logger.debug({ pid, err: err.message }, 'bot output pipe error'));
      createInterface({ input: stream }).on('line', (line) =>
        this.logger.debug({ pid, bot_output: line.slice(0, 500) }),
      );
    }
  }

  /** Node reaps the child on 'exit'; we record how it ended and free its room. */
  private reap(s: Session, code: number | null, signal: NodeJS.Signals | null): void {
    if (s.killTimer) clearTimeout(s.killTimer);
    const failed = !s.stopRequested && code !== 0;
    s.view.state = failed ? 'failed' : 'ended';
    s.view.ended_at = new Date().toISOString();
    s.view.exit_code = code;
    s.view.signal = signal;
    if (this.liveByRoom.get(s.view.room_url) === s.view.pid) this.liveByRoom.delete(s.view.room_url);
    this.events.publish({
      type: failed ? 'failed' : 'ended',
      pid: s.view.pid,
      room_url: s.view.room_url,
      bot: s.view.bot,
      exit_code: code,
      signal,
      reason: s.stopRequested ? 'requested' : failed ? 'exited_with_error' : 'exited',
    });
    this.forgetOldSessions();
  }

  private forgetOldSessions(): void {
    const ended = [...this.sessions.values()].filter((s) => s.view.state === 'ended' || s.view.state === 'failed');
    for (const s of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.sessions.delete(s.view.pid);
  }

  /** Graceful: SIGTERM, then SIGKILL once the grace period runs out. */
  leave(pid: number, requestId?: string): BotSessionView {
    const s = this.live(pid);
    if (s.view.state === 'running') {
      s.stopRequested = true;
      s.view.state = 'leaving';
      this.events.publish({ type: 'leaving', pid, room_url: s.view.room_url, bot: s.view.bot, request_id: requestId });
      s.child.kill('SIGTERM');
      s.killTimer = setTimeout(() => s.child.kill('SIGKILL'), this.cfg.leaveGraceMs);
      s.killTimer.unref();
    }
    return { ...s.view };
  }

  /** Immediate: SIGKILL. */
  async kill(pid: number): Promise<BotSessionView> {
    const s = this.live(pid);
    s.stopRequested = true;
    s.child.kill('SIGKILL');
    await s.exited;
    return { ...s.view };
  }

  list(): BotSessionView[] {
    return [...this.sessions.values()].map((s) => ({ ...s.view }));
  }

  get(pid: number): BotSessionView {
    const s = this.sessions.get(pid);
    if (!s) throw new NotFoundException({ detail: 'session not found' });
    return { ...s.view };
  }

  private live(pid: number): Session {
    const s = this.sessions.get(pid);
    if (!s || s.view.state === 'ended' || s.view.state === 'failed') {
      throw new NotFoundException({ detail: 'session not found' });
    }
    return s;
  }

  private liveCount(): number {
    return this.liveByRoom.size;
  }

  /** None left behind: every bot is asked to leave, then killed if it lingers. */
  async beforeApplicationShutdown(): Promise<void> {
    const live = [...this.sessions.values()].filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    for (const s of live) {
      s.stopRequested = true;
      s.child.kill('SIGTERM');
    }
    const grace = Math.min(this.cfg.leaveGraceMs, 5000);
    const timer = setTimeout(() => live.forEach((s) => s.child.kill('SIGKILL')), grace);
    await Promise.all(live.map((s) => s.exited));
    clearTimeout(timer);
  }
}
