import { BadRequestException, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BotControlClient } from '../upstream/upstream.client';
import { BotProxyService } from '../bot/bot-proxy.service';
import { ApiExcludeController } from '@nestjs/swagger';
import { Auth } from '@portcullis/auth';

const pidPipe = new ParseIntPipe({
  exceptionFactory: () => new BadRequestException({ detail: 'pid must be a number' }),
});

/** Bot sessions tab: a snapshot, then bot-control's event stream (the page never polls). */
@Auth('dashboard-session')
@ApiExcludeController()
@Controller('dashboard/api/bots')
export class BotsController {
  constructor(
    private readonly botControl: BotControlClient,
    private readonly bots: BotProxyService,
  ) {}

  @Get()
  async list(@Req() req: FastifyRequest): Promise<{ sessions: unknown }> {
    return { sessions: await this.botControl.call('GET', '/sessions', undefined, String(req.id)) };
  }

  @Get('events')
  events(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.bots.relayEvents(req, reply);
  }

  @Post(':pid/leave')
  @HttpCode(202)
  leave(@Param('pid', pidPipe) pid: number, @Req() req: FastifyRequest): Promise<unknown> {
    return this.bots.leave({ pid }, String(req.id));
  }

  @Post(':pid/stop')
  @HttpCode(200)
  stop(@Param('pid', pidPipe) pid: number, @Req() req: FastifyRequest): Promise<unknown> {
    return this.bots.leave({ pid, force: true }, String(req.id));
  }
}
