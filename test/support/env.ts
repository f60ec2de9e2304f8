import { randomBytes } from 'node:crypto';

/** The real engines: CI and development machines run both on 127.0.0.1. */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A recognisable value that must never show up in logs or responses. */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(20).toString('hex')}`;
}
