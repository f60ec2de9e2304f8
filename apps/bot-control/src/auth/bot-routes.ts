import { Auth, RouteMode } from '@portcullis/auth';
import type { BotControlConfig } from '../config';

/**
 * What a route does, which decides which flag guards it:
 * join follows BOT_CONTROL_AUTH_REQUIRED; leave and delete (the /sessions/*
 * mutations) follow it or BOT_CONTROL_AUTH_REQUIRED_CHANGE; events and read follow
 * BOT_CONTROL_EVENTS_AUTH_REQUIRED.
 */
export type BotRouteKind = 'join' | 'leave' | 'delete' | 'events' | 'read';

/**
 * A bot-control route: a device token (when DEVICE_AUTH_URL is set), a signed request
 * or the shared secret, in that order (libs/auth's AuthGuard tries each presented one).
 */
export const BotAuth = (route: BotRouteKind) => Auth(['device-token', 'signed-request', 'shared-secret'], { route });

const MUTATIONS: readonly BotRouteKind[] = ['join', 'leave', 'delete'];

/**
 * The route table handed to the shared-secret strategy. Not enforced, a mutation runs in
 * shadow mode (would-deny is recorded, the call goes on) so an operator can see it is
 * safe to flip the flag; an unenforced read or event stream is open.
 */
export function botRouteModes(cfg: BotControlConfig): Record<BotRouteKind, RouteMode> {
  // BOT_CONTROL_AUTH_REQUIRED_CHANGE can only add enforcement (on /sessions/* mutations), never remove it.
  const change = cfg.authRequired || cfg.authRequiredChange;
  return {
    join: cfg.authRequired ? 'enforce' : 'shadow',
    leave: change ? 'enforce' : 'shadow',
    delete: change ? 'enforce' : 'shadow',
    events: cfg.eventsAuthRequired ? 'enforce' : 'open',
    read: cfg.eventsAuthRequired ? 'enforce' : 'open',
  };
}

/** Mutations whose calls must be signed under BOT_CONTROL_SIGNATURE_REQUIRED. */
export function signedOnlyRoutes(cfg: BotControlConfig): readonly BotRouteKind[] {
  return cfg.signatureRequired ? MUTATIONS : [];
}
