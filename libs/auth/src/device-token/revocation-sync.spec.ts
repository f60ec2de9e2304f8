import { Controller, Module } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { RevocationSnapshot, Subjects } from '@portcullis/contracts';
import { InProcessClient, InProcessServer } from '@portcullis/platform';
import { DeviceTokenVerifier } from './device-token.verifier';
import {
  DEVICE_TOKEN_METRICS,
  REVOCATION_CLIENT,
  REVOCATION_NATS,
  RevocationEventsController,
  RevocationNatsSource,
  RevocationSyncService,
} from './revocation-sync';
import { lastValueFrom } from 'rxjs';

/** device-auth's side, over the in-process transport (the same message pattern as on NATS). */
let snapshot: RevocationSnapshot = { iss: 'iss-a', entries: [], at: '' };
@Controller()
class SnapshotResponder {
  @MessagePattern(Subjects.revocationSnapshot)
  answer(): RevocationSnapshot {
    return snapshot;
  }
}
@Module({ controllers: [SnapshotResponder] })
class ResponderModule {}

describe(RevocationSyncService.name, () => {
  it('loads the snapshot at start and again after every reconnect, ignoring other issuers', async () => {
    const responder = (await Test.createTestingModule({ imports: [ResponderModule] }).compile()).createNestMicroservice(
      { strategy: new InProcessServer() },
    );
    await responder.listen();
    const reconnects: Array<() => void> = [];
    const source: RevocationNatsSource = {
      enabled: false,
      connection: async () => undefined,
      onReconnect: (fn) => reconnects.push(fn),
    };
    const verifier = new DeviceTokenVerifier({
      keys: async () => {
        throw new Error('unused');
      },
      issuer: 'iss-a',
      audience: 'aud',
    });
    const moduleRef = await Test.createTestingModule({
      providers: [
        { provide: DeviceTokenVerifier, useValue: verifier },
        { provide: REVOCATION_CLIENT, useValue: new InProcessClient() },
        { provide: REVOCATION_NATS, useValue: source },
        RevocationSyncService,
      ],
    }).compile();
    const sync = moduleRef.get(RevocationSyncService);
    try {
      snapshot = { iss: 'iss-a', entries: [{ device_id: 'pi_1', min_generation: 2 }], at: '' };
      await moduleRef.init();
      await sync.syncUntilDone();
      expect(verifier.revocations.synced).toBe(true);
      expect(verifier.revocations.isRevoked('pi_1', 1)).toBe(true);
      expect(reconnects).toHaveLength(1);

      // Missed while disconnected: pi_2 was revoked; the reconnect re-sync catches it.
      snapshot = {
        iss: 'iss-a',
        entries: [
          { device_id: 'pi_1', min_generation: 2 },
          { device_id: 'pi_2', min_generation: 4 },
        ],
        at: '',
      };
      reconnects[0]();
      await sync.syncUntilDone();
      expect(verifier.revocations.isRevoked('pi_2', 3)).toBe(true);

      snapshot = { iss: 'iss-other', entries: [{ device_id: 'pi_3', min_generation: 9 }], at: '' };
      await expect(sync.syncOnce()).resolves.toBe(false);
      expect(verifier.revocations.isRevoked('pi_3', 1)).toBe(false);
    } finally {
      await moduleRef.close();
      await responder.close();
    }
  });
});

describe(RevocationEventsController.name, () => {
  it('applies revocation events of its own issuer from the message transport and ignores others', async () => {
    const verifier = new DeviceTokenVerifier({
      keys: async () => {
        throw new Error('unused');
      },
      issuer: 'iss-a',
      audience: 'aud',
    });
    const moduleRef = await Test.createTestingModule({
      controllers: [RevocationEventsController],
      providers: [
        { provide: DeviceTokenVerifier, useValue: verifier },
        { provide: DEVICE_TOKEN_METRICS, useValue: null },
      ],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: new InProcessServer() });
    await app.listen();
    const client = new InProcessClient();
    try {
      await lastValueFrom(
        client.emit(Subjects.deviceRevoked, { iss: 'iss-other', device_id: 'pi_x', min_generation: 5, revoked_at: '' }),
        { defaultValue: undefined },
      );
      await lastValueFrom(
        client.emit(Subjects.deviceRevoked, { iss: 'iss-a', device_id: 'pi_y', min_generation: 3, revoked_at: '' }),
        { defaultValue: undefined },
      );
      const until = Date.now() + 2000;
      while (!verifier.revocations.isRevoked('pi_y', 2) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 5));
      expect(verifier.revocations.isRevoked('pi_y', 2)).toBe(true);
      expect(verifier.revocations.isRevoked('pi_y', 3)).toBe(false);
      expect(verifier.revocations.isRevoked('pi_x', 1)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
