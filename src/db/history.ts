import { type EntityName, type FilterQuery, ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Deletes a row, or deactivates it when history refers to it (orders keep their products,
 * variants and discounts): the foreign keys decide. The delete runs in a savepoint, so a refused
 * delete leaves the caller's transaction usable.
 */
export async function deleteOrDeactivate<T extends { id: number; isActive: boolean }>(em: EntityManager, entity: EntityName<T>, id: number): Promise<void> {
  const row = { id } as FilterQuery<T>;
  try {
    await em.transactional((tx) => tx.nativeDelete(entity, row));
  } catch (err) {
    if (!(err instanceof ForeignKeyConstraintViolationException)) throw err;
    await em.nativeUpdate(entity, row, { isActive: false } as never);
  }
}
