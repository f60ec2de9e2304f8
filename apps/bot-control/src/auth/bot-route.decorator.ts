import { Reflector } from '@nestjs/core';

/**
 * What a route does, which decides which flag guards it:
 * join follows BOT_CONTROL_AUTH_REQUIRED; leave and delete (the /sessions/*
 * mutations) follow it or BOT_CONTROL_AUTH_REQUIRED_CHANGE; events and read follow
 * BOT_CONTROL_EVENTS_AUTH_REQUIRED.
 */
export type BotRouteKind = 'join' | 'leave' | 'delete' | 'events' | 'read';
export const BotRoute = Reflector.createDecorator<BotRouteKind>();
