import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@portcullis/auth';
import type { FastifyReply } from 'fastify';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * apps/interface-proxy/public, beside src both in the source tree and in dist
 * (the build copies it). Read once at boot into memory: a fixed set of files,
 * so no request path ever reaches the file system.
 */
function loadDashboardAssets(dir = resolve(__dirname, '../../public')): Map<string, { type: string; body: Buffer }> {
  if (!existsSync(dir)) throw new Error(`dashboard assets not found in ${dir}; run npm run build`);
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return files;
}

@Public()
@ApiExcludeController()
@Controller('dashboard')
export class AssetsController {
  private readonly files = loadDashboardAssets();

  @Get()
  @Header('content-type', TYPES['.html'])
  page(): Buffer {
    return this.asset('index.html').body;
  }

  @Get('assets/:name')
  file(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const f = this.asset(name);
    void reply.header('content-type', f.type);
    return f.body;
  }

  private asset(name: string): { type: string; body: Buffer } {
    const f = this.files.get(name);
    if (!f) throw new NotFoundException({ detail: 'not found' });
    return f;
  }
}
