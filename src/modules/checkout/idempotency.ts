import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CheckoutErrors } from './checkout.errors';
import { IdempotencyKey } from './idempotency-key.entity';

/** A canonical hash of a request body (key order does not matter). */
export function requestHash(body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort().map(([k, x]) => [k, canonical(x)])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

/** Whose keys: an account's, or a guest cart's (keys are per cart for guests). */
export type KeyOwner = { userId: number } | { cartId: number };

export interface IdempotentRequest {
  owner: KeyOwner;
  scope: 'order' | 'payment' | 'refund';
  key: string;
  hash: string;
}

/** The idempotent request for a body sent with a key, or undefined without a key. */
export function idempotent(owner: number | KeyOwner, scope: IdempotentRequest['scope'], key: string | undefined, body: unknown): IdempotentRequest | undefined {
  return key ? { owner: typeof owner === 'number' ? { userId: owner } : owner, scope, key, hash: requestHash(body) } : undefined;
}

/**
 * Inside the caller's transaction: serialises requests with the same key (a concurrent duplicate is
 * 409), refuses a key reused with another body (422), and returns the resource a previous request
 * with this key produced, if any. Keys older than `ttlHours` are forgotten.
 */
export async function claimIdempotencyKey(em: EntityManager, req: IdempotentRequest, ttlHours: number): Promise<number | null> {
  const who = 'userId' in req.owner ? String(req.owner.userId) : `cart-${req.owner.cartId}`;
  const [lock] = await em.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked', [
    `idempotency:${who}:${req.scope}:${req.key}`,
  ]);
  if (!lock?.locked) throw CheckoutErrors.idempotencyConflict();
  const owner = 'userId' in req.owner ? { user: req.owner.userId } : { cartId: req.owner.cartId };
  const existing = await em.findOne(IdempotencyKey, { ...owner, scope: req.scope, key: req.key });
  if (!existing) return null;
  if (existing.createdAt.getTime() < Date.now() - ttlHours * 3_600_000) {
    await em.nativeDelete(IdempotencyKey, existing.id);
    return null;
  }
  if (existing.requestHash !== req.hash) throw CheckoutErrors.idempotencyKeyReused();
  return existing.resourceId;
}

/** Remembers what a request with this key produced (in the same transaction as the resource). */
export function rememberIdempotencyKey(em: EntityManager, req: IdempotentRequest, resourceId: number): void {
  const row = new IdempotencyKey('userId' in req.owner ? req.owner.userId : null, req.scope, req.key, req.hash);
  if ('cartId' in req.owner) row.cartId = req.owner.cartId;
  row.resourceId = resourceId;
  em.persist(row);
}
