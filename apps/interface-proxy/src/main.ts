import { runMain } from '@portcullis/platform';
import { loadInterfaceProxyConfig, startInterfaceProxy } from '.';

runMain(() => startInterfaceProxy(loadInterfaceProxyConfig(), { shutdownHooks: true }));
