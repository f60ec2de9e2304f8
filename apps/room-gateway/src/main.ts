import { runMain } from '@portcullis/platform';
import { loadRoomGatewayConfig, startRoomGateway } from '.';

runMain(() => startRoomGateway(loadRoomGatewayConfig(), { shutdownHooks: true }));
