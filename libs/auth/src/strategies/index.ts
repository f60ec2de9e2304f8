export * from './shared-secret.strategy';
export * from './signed-request.strategy';
export * from './device-token.strategy';
export * from './admin-key.strategy';
export * from './provider-key.strategy';
export * from './oidc.strategy';
export * from './dashboard-session.strategy';
