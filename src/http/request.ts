import type { Guest, Principal } from '../shared/principal';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the bearer security handler when a valid access token was presented. */
    principal?: Principal;
    /** Set when a presented token was refused; reported instead of the validator's generic 401. */
    authFailure?: Error;
    /** Set by the cart-token security handler when a valid guest cart token was presented. */
    guest?: Guest;
    /** Set when a presented cart token was refused (reported when no bearer token stood in for it). */
    cartTokenFailure?: Error;
    /** The raw JSON body, kept for signature checks (webhooks). */
    rawBody?: Buffer;
    /** The query parameters as sent (bracket array forms folded), before the validator coerces them. */
    rawQuery?: Record<string, string | string[]>;
  }
}
