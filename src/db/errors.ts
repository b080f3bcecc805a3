import { CheckConstraintViolationException, ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';

/** The name of the constraint a driver exception reports ("duplicate key value violates unique constraint \"x\""). */
export function constraintOf(err: { constraint?: string; message: string }): string {
  return err.constraint ?? /constraint "([^"]+)"/.exec(err.message)?.[1] ?? '';
}

/** What a refused write means to the caller, by the kind of constraint that refused it (and its name). */
export interface Refusals {
  unique?(constraint: string): Error;
  check?(constraint: string): Error | undefined;
  foreignKey?(constraint: string): Error | undefined;
}

/**
 * Runs a write (a flush, a delete, a transaction) and turns the database's refusal into the
 * domain's error: the constraints decide (a unique index settles a race two checks could not), and
 * this is the one place their exceptions are translated. A refusal with no translation, or any
 * other error, goes on unchanged.
 */
export async function refuseViolations<T>(write: () => Promise<T>, refusals: Refusals): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const translated =
      err instanceof UniqueConstraintViolationException
        ? refusals.unique?.(constraintOf(err))
        : err instanceof CheckConstraintViolationException
          ? refusals.check?.(constraintOf(err))
          : err instanceof ForeignKeyConstraintViolationException
            ? refusals.foreignKey?.(constraintOf(err))
            : undefined;
    throw translated ?? err;
  }
}
