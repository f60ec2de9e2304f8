import { readCookie as cookieOf, sameOrigin as sameOriginOf } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'portcullis_dashboard';
export const CSRF_HEADER = 'x-csrf-token';
export const DASHBOARD_PATH = '/dashboard';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Host name of the request without the port ("[::1]" kept bracketed). */
function requestHostname(req: FastifyRequest): string {
  const host = String(req.headers.host ?? '').toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.split(':')[0];
}

/** Plain HTTP is only trusted on the loopback names; everywhere else the cookie is Secure. */
function isLocalRequest(req: FastifyRequest): boolean {
  return LOCAL_HOSTS.has(requestHostname(req));
}

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  return cookieOf(req.headers, name);
}

export function sessionCookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const attrs = [
    `${SESSION_COOKIE}=${value}`,
    `Path=${DASHBOARD_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (!isLocalRequest(req)) attrs.push('Secure');
  return attrs.join('; ');
}

export function clearedSessionCookie(req: FastifyRequest): string {
  return sessionCookie(req, '', 0);
}

/** A state-changing request must come from this origin (libs/auth's rule, shared with the session strategy). */
export function sameOrigin(req: FastifyRequest): boolean {
  return sameOriginOf(req.headers, req.protocol);
}
