import { headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';

/** JetStream's error code for "wrong last sequence". */
const WRONG_LAST_SEQUENCE = 10071;

const pubAck = JSONCodec<{ seq?: number; error?: { code?: number; err_code?: number; description?: string } }>();

/** Another writer got there first: the key's last revision was not the one expected. */
export class KvRevisionConflict extends Error {
  constructor() {
    super('wrong last sequence');
  }
}

/**
 * Writes `data` under `key` in KV bucket `bucket` only if the key's last
 * revision is still `expected` (0: no entry yet). This is the publish
 * kv.create/kv.update make, as one request without their client-side wrapping
 * (key checks, a second round trip on refusal), for the per-request paths that
 * need it: signature nonces and shared rate limits. Resolves with the new
 * revision; rejects with KvRevisionConflict, or any other error when JetStream
 * or NATS failed. Not async: the request is issued before it returns, so writes
 * started in one turn go out in one socket write.
 */
export function kvWriteIfRevision(
  nc: NatsConnection,
  bucket: string,
  key: string,
  data: Uint8Array,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const h = natsHeaders();
  h.set('Nats-Expected-Last-Subject-Sequence', String(expected));
  return nc.request(`$KV.${bucket}.${key}`, data, { timeout: timeoutMs, headers: h }).then((reply) => {
    const ack = pubAck.decode(reply.data);
    if (ack.error?.err_code === WRONG_LAST_SEQUENCE) throw new KvRevisionConflict();
    if (ack.error || typeof ack.seq !== 'number') throw new Error(ack.error?.description ?? 'JetStream refused the write');
    return ack.seq;
  });
}
