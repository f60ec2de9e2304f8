import { Injectable, Logger } from '@nestjs/common';
import { pipeline } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BotControlClient } from '../upstream/upstream.client';
import { ProxyLeaveDto } from './bot.dto';

@Injectable()
export class BotProxyService {
  private readonly logger = new Logger(BotProxyService.name);

  constructor(private readonly botControl: BotControlClient) {}

  async join(body: Record<string, unknown>, requestId: string): Promise<unknown> {
    // Only the documented fields travel upstream; bot-control validates them.
    const { room_url, token, bot } = body;
    return this.botControl.call('POST', '/join', { room_url, token, bot }, requestId);
  }

  async leave(dto: ProxyLeaveDto, requestId: string): Promise<unknown> {
    return dto.force
      ? this.botControl.call('DELETE', `/sessions/${dto.pid}`, undefined, requestId)
      : this.botControl.call('POST', `/sessions/${dto.pid}/leave`, undefined, requestId);
  }

  /**
   * Pipes bot-control's SSE bytes to the browser until either side goes away. pipeline()
   * rather than pipe(): an error on either stream (bot-control going away, the browser
   * resetting) destroys both, so neither the upstream request nor the response is left
   * open and no 'error' goes unhandled.
   */
  async relayEvents(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const abort = new AbortController();
    // The browser may leave while bot-control is still answering.
    const stop = () => abort.abort();
    reply.raw.once('close', stop);
    let upstream;
    try {
      upstream = await this.botControl.stream('/events', String(req.id), abort.signal);
    } catch (err) {
      reply.raw.off('close', stop);
      throw err;
    }
    if (abort.signal.aborted) return void upstream.destroy();
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.flushHeaders();
    pipeline(upstream, reply.raw).catch((err: Error & { code?: string }) => {
      abort.abort();
      this.logger.debug(`event stream relay ended: ${err.code ?? err.name} ${err.message}`);
    });
  }
}
