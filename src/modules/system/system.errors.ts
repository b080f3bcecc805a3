import { DATABASE_BUSY, DATABASE_UNREACHABLE } from '../../db/faults';
import { DomainError } from '../../shared/errors';

/** The probes' failures; codes and Retry-After are documented in the contract's ServiceUnavailable response. */
export const SystemErrors = {
  shuttingDown: () => new DomainError('unavailable', 'SHUTTING_DOWN', 'The server is shutting down.', {}, 5),
  databaseUnreachable: () =>
    new DomainError('unavailable', DATABASE_UNREACHABLE.code, DATABASE_UNREACHABLE.detail, {}, DATABASE_UNREACHABLE.retryAfterSeconds),
  databaseSaturated: () =>
    new DomainError('unavailable', DATABASE_BUSY.code, 'Every connection of a database pool is in use, and requests have been waiting for one.', {}, DATABASE_BUSY.retryAfterSeconds),
};
