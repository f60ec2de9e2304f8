import type { RevocationSnapshot } from '@portcullis/contracts';

/**
 * Per-device generation floors: a token whose `gen` is below its device's
 * floor is revoked. Floors only ever rise, so events and snapshots can
 * arrive in any order and the map still converges.
 */
export class RevocationMap {
  private readonly floors = new Map<string, number>();
  private syncedAt?: Date;

  raise(deviceId: string, minGeneration: number): void {
    if (!Number.isInteger(minGeneration)) return;
    const cur = this.floors.get(deviceId) ?? 0;
    if (minGeneration > cur) this.floors.set(deviceId, minGeneration);
  }

  load(snapshot: RevocationSnapshot): void {
    for (const e of snapshot.entries ?? []) this.raise(e.device_id, e.min_generation);
    this.syncedAt = new Date();
  }

  isRevoked(deviceId: string, generation: number): boolean {
    const floor = this.floors.get(deviceId);
    return floor !== undefined && generation < floor;
  }

  get synced(): boolean {
    return this.syncedAt !== undefined;
  }

  get size(): number {
    return this.floors.size;
  }
}
