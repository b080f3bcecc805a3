import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Where a keyset page starts: the sort key values of a boundary row, ending with its id. */
export type KeyValues = (string | number)[];

export interface CursorPayload {
  /** The ordering (and anything else) the cursor was issued for; a cursor is only valid there. */
  scope: string;
  values: KeyValues;
  /** true: the page before the boundary row; false: the page after it. */
  backward: boolean;
}

/**
 * Opaque, tamper-evident cursors: base64url(JSON) + "." + a truncated HMAC-SHA256. Clients cannot
 * build or edit them, and a cursor issued for one ordering is refused for another.
 */
export class CursorCodec {
  /** A KeyObject: createHmac would otherwise import the raw key on every call. */
  private readonly secret: KeyObject;

  constructor(secret: Buffer) {
    this.secret = createSecretKey(secret);
  }

  private sign(data: string): Buffer {
    return createHmac('sha256', this.secret).update(data).digest().subarray(0, 16);
  }

  encode(payload: CursorPayload): string {
    const data = Buffer.from(JSON.stringify([payload.scope, payload.backward ? 1 : 0, payload.values])).toString('base64url');
    return `${data}.${this.sign(data).toString('base64url')}`;
  }

  /** The payload, or undefined when the cursor is malformed, forged or from another scope. */
  decode(cursor: string, scope: string): CursorPayload | undefined {
    return this.decodeIn(cursor, [scope]);
  }

  /** Like `decode`, for a cursor that may belong to any of `scopes` (its signature is checked once). */
  decodeIn(cursor: string, scopes: readonly string[]): CursorPayload | undefined {
    const [data, sig, extra] = cursor.split('.');
    if (!data || !sig || extra !== undefined) return undefined;
    const given = Buffer.from(sig, 'base64url');
    const expected = this.sign(data);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const [s, b, values] = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as [string, number, KeyValues];
      if (!scopes.includes(s) || !Array.isArray(values) || !values.every((v) => typeof v === 'string' || typeof v === 'number')) {
        return undefined;
      }
      return { scope: s, backward: b === 1, values };
    } catch {
      return undefined;
    }
  }
}
