import { Registry } from 'prom-client';
import { KeyedCounter } from './keyed-counter';

describe(KeyedCounter.name, () => {
  it('shows each label set with its running total at every scrape', async () => {
    const registry = new Registry();
    const c = new KeyedCounter({ name: 'spec_total', help: 'spec', labelNames: ['route', 'reason'] as const, registry });
    c.inc('/join', 'ok');
    c.inc('/join', 'ok');
    c.inc('/join', 'bad');
    const first = await registry.metrics();
    expect(first).toContain('spec_total{route="/join",reason="ok"} 2');
    expect(first).toContain('spec_total{route="/join",reason="bad"} 1');
    c.inc('/join', 'ok');
    // A second scrape neither resets nor double-counts.
    expect(await registry.metrics()).toContain('spec_total{route="/join",reason="ok"} 3');
    expect(await registry.metrics()).toContain('spec_total{route="/join",reason="bad"} 1');
  });

  it('keeps label values apart that would collide if simply concatenated', async () => {
    const registry = new Registry();
    const c = new KeyedCounter({ name: 'spec2_total', help: 'spec', labelNames: ['a', 'b'] as const, registry });
    c.inc('x', 'yz');
    c.inc('xy', 'z');
    const text = await registry.metrics();
    expect(text).toContain('spec2_total{a="x",b="yz"} 1');
    expect(text).toContain('spec2_total{a="xy",b="z"} 1');
  });

  it('counts label sets past its cap under one overflow series', async () => {
    const registry = new Registry();
    const c = new KeyedCounter({ name: 'spec3_total', help: 'spec', labelNames: ['action', 'reason'] as const, registry, maxSeries: 3 });
    c.inc('GET /x', 'ok');
    for (let i = 0; i < 50; i++) c.inc(`signaling.connect room-${i}`, 'ok');
    c.inc('GET /x', 'ok');
    const text = await registry.metrics();
    expect(text).toContain('spec3_total{action="GET /x",reason="ok"} 2');
    expect(text).toContain('spec3_total{action="signaling.connect room-0",reason="ok"} 1');
    expect(text).toContain('spec3_total{action="_overflow",reason="_overflow"} 48');
    expect(text).not.toContain('room-2"');
    expect(text.split('\n').filter((l) => l.startsWith('spec3_total{'))).toHaveLength(4);
  });
});
