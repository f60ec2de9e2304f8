import {
  DeviceRegistryHook,
  DeviceTokenStrategy,
  StrategyFactory,
  AdminKeyStrategy,
  AdminKeySource,
} from '@portcullis/auth';
import { Device } from '../database/device.entity';
import { isPostgresOutage, postgresUnavailable } from '../database/outage';
import { TokensService } from '../tokens/tokens.service';

/** device-auth's registry, as libs/auth's device-token strategy asks it: the row of a verified token. */
function deviceRegistry(tokens: TokensService): DeviceRegistryHook<Device> {
  return { load: (device) => tokens.checkRegistry(device), isOutage: isPostgresOutage, outage: postgresUnavailable };
}

/** Device tokens checked against the registry, and the operator's admin key. */
export const deviceAuthStrategies: StrategyFactory[] = [
  (get) =>
    new DeviceTokenStrategy<Device>({
      verifier: get<TokensService>(TokensService).verifier,
      registry: deviceRegistry(get(TokensService)),
    }),
  (get) => new AdminKeyStrategy(get(AdminKeySource)),
];
