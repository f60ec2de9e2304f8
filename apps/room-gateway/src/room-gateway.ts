import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bootApp, bootOptionsFor } from '@portcullis/platform';
import { AppModuleOptions, RoomGatewayModule } from './app.module';
import { RoomGatewayConfig } from './config';

export async function startRoomGateway(
  cfg: RoomGatewayConfig,
  opts: AppModuleOptions & { shutdownHooks?: boolean } = {},
): Promise<NestFastifyApplication> {
  return bootApp(RoomGatewayModule.forRoot(cfg, opts), {
    ...bootOptionsFor(cfg),
    shutdownHooks: opts.shutdownHooks,
    // Signaling needs device-auth's revocation and JWKS events; the BYOK half consumes none.
    microservice: Boolean(cfg.signaling),
    configure: (app) => {
      const doc = new DocumentBuilder()
        .setTitle('Portcullis room-gateway')
        .setDescription('Bring-your-own-key rooms: your provider key in X-Provider-Auth, the provider in X-Provider.')
        .setVersion('1')
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Portcullis-API-Key' }, 'admin-key')
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Provider-Auth' }, 'provider-key')
        .build();
      // The UI itself is DocsController; SwaggerModule serves the JSON only.
      SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, doc), {
        ui: false,
        raw: ['json'],
        jsonDocumentUrl: 'docs-json',
      });
    },
  });
}
