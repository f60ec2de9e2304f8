import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BotControlClient } from './bot-control.client';
import { ProxyLeaveDto } from './bot.dto';

@Injectable()
export class BotProxyService {
  constructor(private readonly botControl: BotControlClient) {}

  async join(body: Record<string, unknown>, requestId: string): Promise<unknown> {
    // Only the documented fields travel upstream; bot-control validates them.
    const { room_url, token, bot } = body;
    return (await this.botControl.call('POST', '/join', { room_url, token, bot }, requestId)).body;
  }

  async leave(dto: ProxyLeaveDto, requestId: string): Promise<unknown> {
    const answer = dto.force
      ? await this.botControl.call('DELETE', `/sessions/${dto.pid}`, undefined, requestId)
      : await this.botControl.call('POST', `/sessions/${dto.pid}/leave`, undefined, requestId);
    return answer.body;
  }

  /** Pipes bot-control's SSE bytes to the browser until either side goes away. */
  async relayEvents(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const abort = new AbortController();
    const upstream = await this.botControl.events(String(req.id), abort.signal);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.flushHeaders();
    const stop = () => abort.abort();
    req.raw.on('close', stop);
    upstream.on('error', () => reply.raw.end());
    upstream.on('end', () => reply.raw.end());
    upstream.pipe(reply.raw);
  }
}
