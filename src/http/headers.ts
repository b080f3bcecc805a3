import type { Request } from 'express';

/** The Idempotency-Key header (validated by the contract where an operation declares it). */
export function idempotencyKey(req: Request): string | undefined {
  return req.get('Idempotency-Key') || undefined;
}
