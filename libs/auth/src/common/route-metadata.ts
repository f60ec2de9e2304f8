import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { Public } from './public.decorator';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Target = Function;

/**
 * What a guard reads from a route's decorators, read once per handler.
 * Decorators are fixed once the app has booted, and the Reflect.getMetadata
 * calls behind Reflector.getAllAndOverride (two per key, on every request) are
 * a measurable share of a guard whose own check is a map lookup.
 */
export class RouteMetadata<T> {
  private readonly byHandler = new WeakMap<Target, { cls: Target; value: T }>();

  constructor(private readonly read: (handler: Target, cls: Target) => T) {}

  of(ctx: ExecutionContext): T {
    const handler = ctx.getHandler();
    const cls = ctx.getClass();
    const hit = this.byHandler.get(handler);
    // One handler function can sit on two classes (an inherited route): the class is part of the key.
    if (hit && hit.cls === cls) return hit.value;
    const value = this.read(handler, cls);
    this.byHandler.set(handler, { cls, value });
    return value;
  }
}

/** What most guards need: whether the route is @Public(), and its audit action name (`Class.handler`). */
export function publicOrAction(reflector: Reflector): RouteMetadata<{ open: boolean; action: string }> {
  return new RouteMetadata((handler, cls) => ({
    open: Boolean(reflector.getAllAndOverride(Public, [handler, cls])),
    action: `${cls.name}.${handler.name}`,
  }));
}
