import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl } from '@portcullis/platform';
import { BotControlConfig, loadBotControlConfig, startBotControl } from '../../apps/bot-control/src';
import { InterfaceProxyConfig, loadInterfaceProxyConfig, startInterfaceProxy } from '../../apps/interface-proxy/src';
import { LogCapture } from './log-capture';

export interface Running<C> {
  app: NestFastifyApplication;
  url: string;
  logs: LogCapture;
  cfg: C;
  close(): Promise<void>;
}

async function wrap<C>(app: NestFastifyApplication, logs: LogCapture, cfg: C): Promise<Running<C>> {
  return { app, logs, cfg, url: await appUrl(app), close: () => app.close() };
}

/** bot-control in this process on port 0, configured through its real env parser. */
export async function runBotControl(env: Record<string, string | undefined>): Promise<Running<BotControlConfig>> {
  const cfg = loadBotControlConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env });
  const logs = new LogCapture();
  return wrap(await startBotControl(cfg, { logStream: logs }), logs, cfg);
}

export async function runInterfaceProxy(
  env: Record<string, string | undefined>,
): Promise<Running<InterfaceProxyConfig>> {
  const cfg = loadInterfaceProxyConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env });
  const logs = new LogCapture();
  return wrap(await startInterfaceProxy(cfg, { logStream: logs }), logs, cfg);
}
