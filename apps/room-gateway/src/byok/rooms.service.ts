import { Injectable, Logger } from '@nestjs/common';
import { Capabilities, capabilityNames, isOff } from './capabilities';
import { CallerMeta, ProviderKeyService } from './provider-key.service';
import { ProviderCredential } from './provider-credential';
import { PROFILES } from './profiles';
import { ProviderError, RoomView } from './providers/provider';
import { CreateRoomRequest } from './rooms.dto';
import { FieldProblem, FieldsInvalid } from './validation';

export interface CreatedRoom extends RoomView {
  profile: string;
  capabilities: Capabilities;
  not_applied: string[];
}

export interface DeletedRoom {
  provider: string;
  room_name: string;
  deleted: true;
}

/** Stateless: each call makes a provider client with the caller's key and drops it. */
@Injectable()
export class RoomsService {
  private readonly logger = new Logger(RoomsService.name);

  constructor(private readonly providerKeys: ProviderKeyService) {}

  async create(cred: ProviderCredential, req: CreateRoomRequest, meta: CallerMeta): Promise<CreatedRoom> {
    const profile = PROFILES[req.profile];
    const asked = req.overrides?.capabilities ?? {};
    const { support, name: provider } = cred.provider;
    const problems: FieldProblem[] = [];
    for (const [name, value] of Object.entries(asked) as Array<
      [keyof Capabilities, Capabilities[keyof Capabilities]]
    >) {
      if (!support[name] && !isOff(name, value)) {
        problems.push({
          loc: ['body', 'overrides', 'capabilities', name],
          msg: `${provider} cannot do ${name}`,
          type: 'unsupported_capability',
        });
      }
    }
    if (problems.length) throw new FieldsInvalid(problems);
    const merged: Capabilities = { ...profile.capabilities, ...asked };
    // What the profile wants but this provider cannot do is left off, and said so.
    const notApplied = capabilityNames.filter((n) => !support[n] && !isOff(n, merged[n]));
    const applied = { ...merged };
    for (const n of notApplied) (applied as Record<string, unknown>)[n] = n === 'expires_in_minutes' ? null : false;
    const room = await this.guard(cred, meta, () =>
      cred.provider.client(cred.key).create(req.name, applied, profile.name),
    );
    return { ...room, profile: profile.name, capabilities: applied, not_applied: notApplied };
  }

  get(cred: ProviderCredential, name: string, meta: CallerMeta): Promise<RoomView> {
    return this.guard(cred, meta, () => cred.provider.client(cred.key).get(name));
  }

  async delete(cred: ProviderCredential, name: string, meta: CallerMeta): Promise<DeletedRoom> {
    await this.guard(cred, meta, () => cred.provider.client(cred.key).delete(name));
    return { provider: cred.provider.name, room_name: name, deleted: true };
  }

  private async guard<T>(cred: ProviderCredential, meta: CallerMeta, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProviderError) {
        if (err.failure === 'rejected_key') this.providerKeys.providerRejected(cred, meta);
        throw err;
      }
      // Anything else is ours; its text could carry request details, so only its class is logged.
      this.logger.error(
        {
          error: err instanceof Error ? err.name : typeof err,
          provider: cred.provider.name,
          fingerprint: cred.fingerprint,
        },
        'provider call failed',
      );
      throw new ProviderError('unavailable', `${cred.provider.name} call failed`);
    }
  }
}
