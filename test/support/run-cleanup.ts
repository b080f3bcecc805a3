import { rmSync } from 'node:fs';
import { withAdmin } from './database';

/*
 * Kept apart from global-teardown.ts on purpose: the global setup imports this, and it must load
 * nothing of the app. With one jest worker (the browser suite) tests run in the setup's own process,
 * and app modules the setup loaded there (global-teardown's error catalog reaches MikroORM's entity
 * metadata) break the ORM's metadata discovery in the test files that follow.
 */

/** Stops what the global setup started and drops the template database; also the setup's own way out when it fails. */
export async function cleanUp(): Promise<void> {
  try {
    await globalThis.__PGBOUNCER__?.close();
  } finally {
    await cleanUpDatabase();
  }
}

async function cleanUpDatabase(): Promise<void> {
  const template = process.env.TEST_TEMPLATE_DB;
  if (template) await withAdmin((c) => c.query(`drop database if exists "${template}" with (force)`)).catch(() => undefined);
  const embedded = globalThis.__EMBEDDED_PG__;
  if (embedded) {
    await embedded.db.stop();
    rmSync(embedded.dir, { recursive: true, force: true });
  }
}
