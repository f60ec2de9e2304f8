import { applyDecorators, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import { AdminKeyGuard } from '@portcullis/auth';

/** Tells GatewayAuthGuard that AdminKeyGuard, not a provider key, authenticates this route. */
export const AdminKeyMarked = Reflector.createDecorator<true>({ transform: () => true });

/**
 * Marks an operator route: X-Portcullis-API-Key checked by AdminKeyGuard. Not @Public(), which
 * AdminKeyGuard honours as an opt-out; the mark and the guard come only together, so nothing
 * under this decorator is reachable without the key.
 */
export const AdminKeyRoute = () => applyDecorators(AdminKeyMarked(), UseGuards(AdminKeyGuard), ApiSecurity('admin-key'));
