import { RevocationMap } from './revocation-map';

describe(RevocationMap.name, () => {
  it('refuses generations below a device floor and only for that device', () => {
    const m = new RevocationMap();
    m.raise('pi_a', 3);
    expect(m.isRevoked('pi_a', 2)).toBe(true);
    expect(m.isRevoked('pi_a', 3)).toBe(false);
    expect(m.isRevoked('pi_b', 1)).toBe(false);
  });

  it('never lowers a floor, whatever order events and snapshots arrive in', () => {
    const m = new RevocationMap();
    m.raise('pi_a', 5);
    m.load({
      iss: 'i',
      entries: [
        { device_id: 'pi_a', min_generation: 2 },
        { device_id: 'pi_c', min_generation: 2 },
      ],
      at: '',
    });
    m.raise('pi_a', 4);
    expect(m.isRevoked('pi_a', 4)).toBe(true);
    expect(m.isRevoked('pi_c', 1)).toBe(true);
    expect(m.synced).toBe(true);
  });
});
