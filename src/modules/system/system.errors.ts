import { DomainError } from '../../shared/errors';

/** The probes' failures; codes are documented in the contract's responses. */
export const SystemErrors = {
  shuttingDown: () => new DomainError('unavailable', 'SHUTTING_DOWN', 'The server is shutting down.'),
  databaseUnreachable: () => new DomainError('unavailable', 'SERVICE_UNAVAILABLE', 'The database is not reachable.'),
};
