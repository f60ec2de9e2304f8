import { Reflector } from '@nestjs/core';

/** Marks admin routes: X-Portcullis-API-Key instead of a device token. */
export const AdminRoute = Reflector.createDecorator<true>({ transform: () => true });

/**
 * Marks device routes whose answer needs only a valid token, not the registry row:
 * while Postgres is unreachable they accept a token that verifies against the
 * signing keys and this replica's revocation floors. Every other device route
 * answers 503 then, since it cannot tell whether the device is still active.
 */
export const TokenSuffices = Reflector.createDecorator<true>({ transform: () => true });
