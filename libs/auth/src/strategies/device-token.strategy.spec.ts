import { DependencyUnavailable } from '@portcullis/platform';
import { DEVICE_TOKEN_HEADER_TYP, DEVICE_TOKEN_TYP } from '@portcullis/contracts';
import { exportJWK, generateKeyPair, createLocalJWKSet, SignJWT } from 'jose';
import { DeviceTokenVerifier, VerifiedDevice } from '../device-token/device-token.verifier';
import type { AuthRequest, RouteAuth } from '../guard/strategy';
import { TokenRejected } from '../jwt/jwks-verifier';
import { DeviceRegistryHook, DeviceTokenStrategy } from './device-token.strategy';

const ISS = 'https://device-auth.spec';
const AUD = 'portcullis-spec';
let verifier: DeviceTokenVerifier;
let token: string;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  verifier = new DeviceTokenVerifier({
    keys: createLocalJWKSet({ keys: [jwk] }),
    issuer: ISS,
    audience: AUD,
    requireSync: false,
  });
  const now = Math.floor(Date.now() / 1000);
  token = await new SignJWT({ cid: 'cust', typ: DEVICE_TOKEN_TYP, gen: 1 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: DEVICE_TOKEN_HEADER_TYP })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setSubject('pi_spec')
    .setJti('j1')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
});

const outage = new Error('connect ECONNREFUSED');
type Registry = 'none' | 'row' | 'revoked' | 'down';
function registry(kind: Registry): DeviceRegistryHook<{ id: string }> | undefined {
  if (kind === 'none') return undefined;
  return {
    load: async (d: VerifiedDevice) => {
      if (kind === 'row') return { id: d.deviceId };
      throw kind === 'revoked' ? new TokenRejected('revoked') : outage;
    },
    isOutage: (err) => err === outage,
    outage: (err) => new DependencyUnavailable('Postgres', undefined, { cause: err }),
  };
}
const req = (authorization?: string): AuthRequest => ({
  transport: 'http',
  method: 'GET',
  route: '/device/info',
  pathWithQuery: '/',
  headers: authorization ? { authorization } : {},
});
const route = (tokenSuffices?: boolean): RouteAuth => ({ kinds: ['device-token'], options: { tokenSuffices } });

describe('DeviceTokenStrategy rules: token × registry × token-suffices → decision', () => {
  it.each([
    // token, registry, tokenSuffices, expected
    ['good', 'none', false, 'allow:ok'],
    ['good', 'row', false, 'allow:ok+row'],
    ['good', 'revoked', false, 'deny:revoked'],
    ['good', 'revoked', true, 'deny:revoked'],
    ['good', 'down', false, 'deny:registry_unavailable+503'],
    ['good', 'down', true, 'allow:registry_unavailable'],
    ['none', 'row', false, 'deny:missing_token'],
    ['forged', 'row', true, 'deny:bad_signature'],
    ['garbage', 'down', true, 'deny:malformed_token'],
  ] as const)('%s token, %s registry, token suffices %s: %s', async (kind, reg, suffices, expected) => {
    const s = new DeviceTokenStrategy({ verifier, registry: registry(reg) });
    const presented =
      kind === 'good'
        ? token
        : kind === 'forged'
          ? `${token.slice(0, -4)}AAAA`
          : kind === 'garbage'
            ? 'eyJx.eyJ5.zz'
            : undefined;
    const result = await s.verify(s.extract(req(presented ? `Bearer ${presented}` : undefined)), route(suffices)).then(
      (a) => `allow:${a.reason}${a.principal.registered ? '+row' : ''}`,
      (e: { reason: string; outage?: unknown }) =>
        `deny:${e.reason}${e.outage instanceof DependencyUnavailable ? '+503' : ''}`,
    );
    expect(result).toBe(expected);
  });

  it('with jwtShapedOnly, a bearer that is not a JWT is not a device token (it may be a shared secret)', () => {
    const s = new DeviceTokenStrategy({ verifier, jwtShapedOnly: true });
    expect(s.extract(req('Bearer plain-shared-secret'))).toBeUndefined();
    expect(s.extract(req(`Bearer ${token}`))).toBe(token);
  });

  it('names the device as the app asks, never the token', async () => {
    const s = new DeviceTokenStrategy({ verifier, subjectPrefix: 'device:', acceptReason: 'device_token' });
    const accepted = await s.verify(token, route());
    expect([accepted.subject, accepted.reason]).toEqual(['device:pi_spec', 'device_token']);
  });
});
