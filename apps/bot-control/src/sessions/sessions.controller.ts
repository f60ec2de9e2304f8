import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Req,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BotSessionView, JoinResponse } from '@portcullis/contracts';
import type { FastifyRequest } from 'fastify';
import { BotAuth } from '../auth/bot-routes';
import { JoinDto } from './join.dto';
import { SessionsService } from './sessions.service';

const pidPipe = new ParseIntPipe({
  exceptionFactory: () => new BadRequestException({ detail: 'pid must be an integer' }),
});

@ApiTags('sessions')
@Controller()
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @ApiOperation({ summary: 'Start a bot in a room, or reuse the one already there' })
  @BotAuth('join')
  @Post('join')
  @HttpCode(200)
  join(@Body() dto: JoinDto, @Req() req: FastifyRequest): Promise<JoinResponse> {
    return this.sessions.join(dto, String(req.id));
  }

  @ApiOperation({ summary: 'Ask a bot to leave (SIGTERM, then SIGKILL after the grace period)' })
  @BotAuth('leave')
  @Post('sessions/:pid/leave')
  @HttpCode(202)
  leave(@Param('pid', pidPipe) pid: number, @Req() req: FastifyRequest): BotSessionView {
    return this.sessions.leave(pid, String(req.id));
  }

  @ApiOperation({ summary: 'Stop a bot at once (SIGKILL)' })
  @BotAuth('delete')
  @Delete('sessions/:pid')
  kill(@Param('pid', pidPipe) pid: number): Promise<BotSessionView> {
    return this.sessions.kill(pid);
  }

  @BotAuth('read')
  @Get('sessions')
  list(): BotSessionView[] {
    return this.sessions.list();
  }

  @BotAuth('read')
  @Get('sessions/:pid')
  get(@Param('pid', pidPipe) pid: number): BotSessionView {
    return this.sessions.get(pid);
  }
}
