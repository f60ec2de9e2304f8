import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProviderAdapter } from './providers/provider';

/** Marks a route as authenticated by the caller's own provider key (X-Provider-Auth / X-Provider). */
export const ProviderKeyRoute = Reflector.createDecorator<true>({ transform: () => true });

/** Who is calling: lives on the request object only, for the length of the request. */
export interface ProviderCredential {
  provider: ProviderAdapter;
  /** The caller's key, for this request's provider client only. */
  key: string;
  /** HMAC of provider and key with the server pepper: what logs and rate limits see. */
  fingerprint: string;
}

/** A symbol property: never serialised by a logger or JSON.stringify of the request. */
export const CREDENTIAL = Symbol('providerCredential');

export type RequestWithCredential = { [CREDENTIAL]?: ProviderCredential };

export const Credential = createParamDecorator((_: unknown, ctx: ExecutionContext): ProviderCredential => {
  const cred = ctx.switchToHttp().getRequest<RequestWithCredential>()[CREDENTIAL];
  if (!cred) throw new Error('Credential used on a route without @ProviderKeyRoute()');
  return cred;
});
