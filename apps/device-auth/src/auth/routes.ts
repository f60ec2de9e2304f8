import { Reflector } from '@nestjs/core';

/** Marks admin routes: X-Portcullis-API-Key instead of a device token. */
export const AdminRoute = Reflector.createDecorator<true>({ transform: () => true });
