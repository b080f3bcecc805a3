/**
 * `npm run jobs:retry -- <job name> <job id> [<job id> ...]`: runs failed jobs again, each with a
 * fresh round of retries (in an image: `node dist/src/cli/retry-jobs.js ...`). Find them with
 * `select id, name, output from pgboss.job where state = 'failed'` (docs/operations.md).
 */
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { entities } from '../orm.config';
import { JobQueue } from '../jobs/queue';
import { jobDefinitions, type JobName } from '../jobs/registry';
import { createLogger } from '../logger';

async function run(): Promise<void> {
  const [name, ...ids] = process.argv.slice(2);
  if (!name || !ids.length || !(name in jobDefinitions)) {
    throw new Error(`usage: npm run jobs:retry -- <job name> <job id>...\njob names: ${Object.keys(jobDefinitions).join(', ')}`);
  }
  const config = loadConfig({ ...process.env, MIGRATE_ON_START: 'false' });
  const logger = createLogger('warn');
  const db = await openDatabase(config, logger, entities);
  const queue = new JobQueue(config, db, logger);
  try {
    await queue.start();
    const queued = await queue.retry(name as JobName, ids);
    console.log(`${queued} of ${ids.length} job(s) queued again${queued < ids.length ? ' (the others were not failed jobs of this name)' : ''}`);
  } finally {
    await queue.stop();
    await db.close();
  }
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
