import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@portcullis/auth';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Portcullis room-gateway API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs-json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script>
</body></html>`;

/**
 * Swagger UI at /docs, served from swagger-ui-dist (the OpenAPI JSON itself is
 * served by SwaggerModule at /docs-json). Not through @fastify/static: its ESM-only
 * dependencies do not load under the test runner, and four fixed files need no more.
 */
@ApiExcludeController()
@Controller('docs')
export class DocsController {
  private readonly files = new Map<string, Buffer>();
  // The package directory only: requiring 'swagger-ui-dist' itself would load the whole UI bundle into the server.
  private readonly dir = dirname(require.resolve('swagger-ui-dist/package.json'));

  @Public()
  @Get()
  page(@Res() reply: FastifyReply): void {
    void reply.type('text/html; charset=utf-8').send(PAGE);
  }

  @Public()
  @Get(':asset')
  asset(@Param('asset') name: string, @Res() reply: FastifyReply): void {
    const type = ASSETS[name];
    if (!type) throw new NotFoundException({ detail: 'not found' });
    let file = this.files.get(name);
    if (!file) this.files.set(name, (file = readFileSync(join(this.dir, name))));
    void reply.type(type).header('cache-control', 'public, max-age=86400').send(file);
  }
}
