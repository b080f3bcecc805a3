import { rmSync } from 'node:fs';
import { withAdmin } from './database';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.TEST_TEMPLATE_DB;
  if (template) await withAdmin((c) => c.query(`drop database if exists "${template}" with (force)`)).catch(() => undefined);
  const embedded = globalThis.__EMBEDDED_PG__;
  if (embedded) {
    await embedded.db.stop();
    rmSync(embedded.dir, { recursive: true, force: true });
  }
}
