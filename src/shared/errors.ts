/**
 * The one error type of the domain. A module builds its errors with static factories
 * (see `<context>.errors.ts`); `src/http/problem.ts` maps `kind` to an HTTP status in one place.
 */
export type ErrorKind =
  | 'invalid' // 400: the input breaks a rule the contract could not express
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404: missing, or not visible to the caller
  | 'conflict' // 409: duplicate or wrong state
  | 'payload_too_large' // 413: an uploaded file over its limit
  | 'unsupported_media_type' // 415: an uploaded file of a type not taken (read from its content)
  | 'unprocessable' // 422: well formed, refused by a business rule
  | 'throttled' // 429
  | 'unavailable'; // 503

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable, SCREAMING_SNAKE_CASE. */
    readonly code: string,
    message: string,
    /** Extra members for the problem document (e.g. `available` on insufficient stock). */
    readonly details: Record<string, unknown> = {},
    /** For `throttled`: seconds until a retry may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static notFound(what: string): DomainError {
    return new DomainError('not_found', 'NOT_FOUND', `${what} was not found.`);
  }

  static forbidden(message = 'You may not perform this operation.'): DomainError {
    return new DomainError('forbidden', 'FORBIDDEN', message);
  }

  static unauthenticated(code: string, message: string): DomainError {
    return new DomainError('unauthenticated', code, message);
  }

  static invalid(field: string, message: string, code = 'VALIDATION_ERROR'): DomainError {
    return new DomainError('invalid', code, message, { errors: [{ field, message }] });
  }
}
