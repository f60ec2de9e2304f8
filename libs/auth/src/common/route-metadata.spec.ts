import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public } from './public.decorator';
import { publicOrAction, RouteMetadata } from './route-metadata';

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

describe(publicOrAction.name, () => {
  it('marks @Public() handlers and classes open, and names the action Class.handler', () => {
    class Mixed {
      open() {}
      closed() {}
    }
    class AllOpen {
      any() {}
    }
    Public()(Mixed.prototype, 'open', Object.getOwnPropertyDescriptor(Mixed.prototype, 'open')!);
    Public()(AllOpen);
    const routes = publicOrAction(new Reflector());
    expect(routes.of(ctx(Mixed.prototype.open, Mixed))).toEqual({ open: true, action: 'Mixed.open' });
    expect(routes.of(ctx(Mixed.prototype.closed, Mixed))).toEqual({ open: false, action: 'Mixed.closed' });
    expect(routes.of(ctx(AllOpen.prototype.any, AllOpen))).toEqual({ open: true, action: 'AllOpen.any' });
  });
});
