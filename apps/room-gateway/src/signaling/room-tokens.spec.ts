import { SignJWT } from 'jose';
import { RoomTokens, ROOM_TOKEN_TYP } from './room-tokens';

describe(RoomTokens.name, () => {
  const tokens = new RoomTokens('k'.repeat(32));

  it('round-trips an invitation', async () => {
    const { token, invitation } = await tokens.issue({ roomId: 'rm_1', role: 'worker', singleUse: true }, 60);
    await expect(tokens.verify(token)).resolves.toEqual(invitation);
  });

  it('refuses tokens signed with another key, tampered, expired, or for another room', async () => {
    const { token } = await new RoomTokens('x'.repeat(32)).issue(
      { roomId: 'rm_1', role: 'client', singleUse: false },
      60,
    );
    await expect(tokens.verify(token)).resolves.toBeUndefined();
    const good = (await tokens.issue({ roomId: 'rm_1', role: 'client', singleUse: false }, 60)).token;
    const [h, p, sig] = good.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'worker' }),
    ).toString('base64url');
    await expect(tokens.verify(`${h}.${forged}.${sig}`)).resolves.toBeUndefined();
    const key = new TextEncoder().encode('k'.repeat(32));
    const now = Math.floor(Date.now() / 1000);
    const base = () =>
      new SignJWT({ rid: 'rm_1', role: 'client', su: false })
        .setProtectedHeader({ alg: 'HS256', typ: ROOM_TOKEN_TYP })
        .setIssuer('portcullis-room-gateway')
        .setJti('j')
        .setIssuedAt(now - 120);
    await expect(
      tokens.verify(
        await base()
          .setAudience('rm_1')
          .setExpirationTime(now - 60)
          .sign(key),
      ),
    ).resolves.toBeUndefined();
    await expect(
      tokens.verify(
        await base()
          .setAudience('rm_2')
          .setExpirationTime(now + 60)
          .sign(key),
      ),
    ).resolves.toBeUndefined();
    await expect(
      tokens.verify(
        await base()
          .setAudience('rm_1')
          .setExpirationTime(now + 60)
          .sign(key),
      ),
    ).resolves.toMatchObject({ roomId: 'rm_1' });
    await expect(tokens.verify(undefined)).resolves.toBeUndefined();
  });
});
