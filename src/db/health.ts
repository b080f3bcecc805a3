import type { EntityManager } from '@mikro-orm/postgresql';
import { isSaturated, poolClient } from './pools';

/** What readiness sees of the database. */
export type DatabaseReadiness = 'ok' | 'saturated' | 'unreachable';

/** Either pool has every connection lent out and requests queued for one (read from the pools: no query). */
const saturated = (em: EntityManager) => isSaturated(poolClient(em, 'write')) || isSaturated(poolClient(em, 'read'));

/**
 * The database as readiness sees it, within `timeoutMs`: `saturated` when a pool is (checked
 * first, without a query, which would queue too), else a `select 1` on the read pool: `ok` if it
 * answers in time; if it fails or is late, `saturated` if a pool filled up meanwhile, else
 * `unreachable`. The query's own waits are bounded (the pool's acquire wait, the connect timeout),
 * but a server that stopped answering on an open socket is only noticed by the clock.
 */
export async function databaseReadiness(em: EntityManager, timeoutMs: number): Promise<DatabaseReadiness> {
  if (saturated(em)) return 'saturated';
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  try {
    if ((await Promise.race([em.getConnection('read').execute('select 1'), late])) !== 'late') return 'ok';
  } catch {
    // reported below
  } finally {
    clearTimeout(timer);
  }
  return saturated(em) ? 'saturated' : 'unreachable';
}
