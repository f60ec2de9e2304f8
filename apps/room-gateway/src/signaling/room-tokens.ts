import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

export const ROOM_TOKEN_TYP = 'room-invite+jwt';
const ISSUER = 'portcullis-room-gateway';

export interface RoomInvitation {
  roomId: string;
  role: 'worker' | 'client';
  singleUse: boolean;
  jti: string;
  expiresAt: Date;
}

/** Room tokens: HS256 JWTs signed by room-gateway; an invitation into one room for one role. */
export class RoomTokens {
  private readonly key: Uint8Array;

  constructor(key: string) {
    this.key = new TextEncoder().encode(key);
  }

  async issue(
    inv: Omit<RoomInvitation, 'jti' | 'expiresAt'>,
    ttlSeconds: number,
  ): Promise<{ token: string; invitation: RoomInvitation }> {
    const jti = randomBytes(16).toString('hex');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ rid: inv.roomId, role: inv.role, su: inv.singleUse })
      .setProtectedHeader({ alg: 'HS256', typ: ROOM_TOKEN_TYP })
      .setIssuer(ISSUER)
      .setAudience(inv.roomId)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.key);
    return { token, invitation: { ...inv, jti, expiresAt: new Date((now + ttlSeconds) * 1000) } };
  }

  /** The invitation, or undefined for any token that is not a valid, unexpired one of ours. */
  async verify(token: unknown): Promise<RoomInvitation | undefined> {
    if (typeof token !== 'string' || token.length > 4096) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        typ: ROOM_TOKEN_TYP,
        requiredClaims: ['jti', 'exp'],
      });
      const p = payload as { rid?: unknown; role?: unknown; su?: unknown; aud?: unknown; jti?: string; exp?: number };
      if (typeof p.rid !== 'string' || p.aud !== p.rid || (p.role !== 'worker' && p.role !== 'client'))
        return undefined;
      return {
        roomId: p.rid,
        role: p.role,
        singleUse: p.su === true,
        jti: p.jti as string,
        expiresAt: new Date((p.exp as number) * 1000),
      };
    } catch {
      return undefined;
    }
  }
}
