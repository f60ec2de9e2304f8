import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { Public } from '@portcullis/platform';
import type { AuthKind, AuthOptions, RouteAuth } from './strategy';

export { Public };

/** The route mark @Auth() writes and the guard reads (Reflector.getAllAndOverride: a handler's mark wins over its class's). */
export const AuthRoute = Reflector.createDecorator<RouteAuth>();

/** The OpenAPI security scheme of each kind (the apps' DocumentBuilder declares the named schemes). */
function openApiSecurity(kind: AuthKind): MethodDecorator & ClassDecorator {
  switch (kind) {
    case 'device-token':
    case 'oidc':
      return ApiBearerAuth();
    case 'shared-secret':
      return ApiSecurity('bot-secret');
    case 'signed-request':
      return ApiSecurity('bot-signature');
    case 'admin-key':
      return ApiSecurity('admin-key');
    case 'provider-key':
      return ApiSecurity('provider-key');
    case 'dashboard-session':
      return ApiSecurity('dashboard-session');
    case 'internal':
      return () => undefined;
  }
}

/**
 * Names the credential a route (controller, handler, gateway, message handler) needs.
 * Several kinds are alternatives, tried in the order given (see AuthGuard). Options
 * are read by the strategies: `route` names what the route does for the app's route
 * table, `tokenSuffices` lets a device-token route answer without the registry row.
 */
export function Auth(kind: AuthKind | AuthKind[], options: AuthOptions = {}): MethodDecorator & ClassDecorator {
  const kinds = Array.isArray(kind) ? kind : [kind];
  return applyDecorators(AuthRoute({ kinds, options }), ...kinds.map(openApiSecurity));
}

/**
 * A NATS (or in-process) control-plane subscription: the subjects are reachable only
 * from inside the deployment (NATS accounts and credentials are its boundary), so no
 * per-message credential is asked for. The guard accepts this mark on message handlers
 * only; on an HTTP route or a WebSocket it is refused.
 */
export const Internal = (): MethodDecorator & ClassDecorator => Auth('internal');

/** Where the guard leaves the verified principal: a symbol, so no serializer of the request prints it. */
export const AUTH_PRINCIPAL = Symbol.for('portcullis.principal');

type WithPrincipal<P = unknown> = { [AUTH_PRINCIPAL]?: P };

/** The principal on a request object (HTTP request, upgrade request, socket), as the guard left it. */
export function principalOf<P>(carrier: unknown): P | undefined {
  return (carrier as WithPrincipal<P> | undefined)?.[AUTH_PRINCIPAL];
}

/**
 * The verified principal of the request, typed by the handler:
 * `join(@Principal() device: DevicePrincipal)`. Undefined on a route that let the
 * request through unchecked (a public route, an open or shadow-mode route).
 */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => {
  const carrier =
    ctx.getType() === 'http'
      ? ctx.switchToHttp().getRequest()
      : ctx.getType() === 'ws'
        ? ctx.switchToWs().getClient()
        : ctx.switchToRpc().getContext();
  return principalOf(carrier);
});
