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
});
