import { loadRoomGatewayConfig } from '../../config';
import { ProviderRegistry } from './provider.registry';

describe(ProviderRegistry.name, () => {
  it('offers LiveKit only when its server is configured, and finds providers in any case', () => {
    expect(new ProviderRegistry(loadRoomGatewayConfig({})).names()).toEqual(['daily']);
    const both = new ProviderRegistry(loadRoomGatewayConfig({ LIVEKIT_API_BASE_URL: 'wss://x.livekit.cloud' }));
    expect(both.names()).toEqual(['daily', 'livekit']);
    expect(both.find(' LiveKit ')?.name).toBe('livekit');
    expect(both.find('zoom')).toBeUndefined();
  });

  it('checks key shapes without judging validity', () => {
    const r = new ProviderRegistry(loadRoomGatewayConfig({ LIVEKIT_API_BASE_URL: 'https://x' }));
    expect(r.find('daily')!.parseKey('abcdefgh')).toEqual({ ok: true });
    expect(r.find('daily')!.parseKey('short').ok).toBe(false);
    expect(r.find('daily')!.parseKey('has space in it').ok).toBe(false);
    expect(r.find('livekit')!.parseKey('APIkey:secret')).toEqual({ ok: true });
    for (const bad of ['APIkey', ':secret', 'APIkey:', 'API key:secret'])
      expect(r.find('livekit')!.parseKey(bad).ok).toBe(false);
  });
});
