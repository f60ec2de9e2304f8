import { runMain } from '@portcullis/platform';
import { loadBotControlConfig, startBotControl } from '.';

runMain(() => startBotControl(loadBotControlConfig(), { shutdownHooks: true }));
