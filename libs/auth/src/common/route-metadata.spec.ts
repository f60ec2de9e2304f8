import type { ExecutionContext } from '@nestjs/common';
import { RouteMetadata } from './route-metadata';

const ctx = (handler: () => void, cls: new () => unknown) => ({ getHandler: () => handler, getClass: () => cls }) as unknown as ExecutionContext;

describe(RouteMetadata.name, () => {
  it('reads a handler once, and again for the same handler on another class', () => {
    const reads: string[] = [];
    const meta = new RouteMetadata((handler, cls) => {
      reads.push(`${cls.name}.${handler.name}`);
      return `${cls.name}.${handler.name}`;
    });
    class A {
      list() {}
    }
    class B extends A {}
    const list = A.prototype.list;
    expect(meta.of(ctx(list, A))).toBe('A.list');
    expect(meta.of(ctx(list, A))).toBe('A.list');
    expect(meta.of(ctx(list, B))).toBe('B.list');
    expect(reads).toEqual(['A.list', 'B.list']);
  });
});
