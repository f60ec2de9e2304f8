import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AUTH_STRATEGY_FACTORIES, AuthGuard, StrategyFactory } from './auth.guard';

export interface AuthModuleOptions {
  /**
   * The strategies this app accepts, one per kind, each built once the app's providers
   * exist: `(get) => new DeviceTokenStrategy({ verifier: get(DeviceTokenVerifier) })`.
   * App data (bot-control's route table, device-auth's registry) goes in as options.
   */
  strategies: StrategyFactory[];
}

/**
 * The app's one guard (AuthGuard, global through APP_GUARD) and its strategies.
 * Every route is then @Auth(kind) or @Public(); anything else is refused.
 * AuthGuard is exported for WebSocket upgrades Nest does not guard (authorizeUpgrade).
 */
@Module({})
export class AuthModule {
  static forRoot(opts: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        { provide: AUTH_STRATEGY_FACTORIES, useValue: opts.strategies },
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
      ],
      exports: [AuthGuard],
    };
  }
}
