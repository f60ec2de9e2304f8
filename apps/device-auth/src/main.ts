import { runMain } from '@portcullis/platform';
import { loadDeviceAuthConfig, startDeviceAuth } from '.';

runMain(() => startDeviceAuth(loadDeviceAuthConfig(), { shutdownHooks: true }));
