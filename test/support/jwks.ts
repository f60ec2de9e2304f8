import { exportJWK, generateKeyPair, JWK, JWTPayload, KeyLike, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import { TokenRejected } from '../../libs/auth/src/jwt/jwks-verifier';

export interface TestKey {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

/** An ES256 key pair made with jose, with its public half as a JWK. */
export async function makeKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** Signs `claims` with `key` (ES256, its kid); `header` adds or overrides protected header fields. */
export function sign(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header }).sign(key.privateKey);
}

/** A JWKS served over real HTTP on 127.0.0.1; `keys` can be changed between requests, `fetches` counts them. */
export class LocalJwks {
  keys: TestKey[] = [];
  fetches = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/.well-known/jwks.json`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** What a verification came to: 'accepted', or the TokenRejected reason (anything else is a test failure to read). */
export function verdict(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof TokenRejected ? e.reason : `other: ${String(e)}`),
  );
}
