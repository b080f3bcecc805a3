import { JOB_SCHEMA, JobQueue, type JobDefinitions, type ReceivedJob } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { createTestDatabase } from '../../support/database';
import { sql } from '../../support/factories';
import { testLogger, waitForJob } from '../../support/jobs';
import { firstOf, itemAt } from '../../support/narrow';
import { pooledUrl } from '../../support/pgbouncer';

/** Jobs of this file only: the queue is generic over its registry. */
interface TestJobs {
  'test.record': { value: string };
  'test.flaky': { failures: number };
  'test.doomed': { value: string };
  'test.slow': { ms: number };
  'test.unique': { key: string };
}

const definitions: JobDefinitions<TestJobs> = {
  'test.record': { retryLimit: 0, retryDelay: 1, retryBackoff: true },
  'test.flaky': { retryLimit: 3, retryDelay: 1, retryBackoff: true },
  'test.doomed': { retryLimit: 1, retryDelay: 1, retryBackoff: true },
  'test.slow': { retryLimit: 0, retryDelay: 1, retryBackoff: true },
  // At most one queued or running job per key.
  'test.unique': { retryLimit: 0, retryDelay: 1, retryBackoff: true, policy: 'exclusive', singletonKey: (d) => d.key },
};

let app: TestApp;
let sender: JobQueue<TestJobs>;
let worker: JobQueue<TestJobs>;

beforeAll(async () => {
  app = await startApp();
  // A web process that sends, and a worker process that works: two pg-boss instances, like production.
  sender = new JobQueue(app.config, { url: pooledUrl(app.databaseUrl), ssl: false }, testLogger(), { definitions });
  worker = new JobQueue(app.config, { url: pooledUrl(app.databaseUrl), ssl: false }, testLogger(), { definitions, worker: true });
  await sender.start();
  await worker.start();
});

afterAll(async () => {
  await worker.stop();
  await sender.stop();
  await app.close();
});

async function jobRows(id: string): Promise<number> {
  const row = firstOf(await sql<{ n: number }>(app, `select count(*)::int as n from ${JOB_SCHEMA}.job where id = ?`, [id]));
  return row.n;
}

describe('JobQueue', () => {
  it('enqueues inside the caller transaction: a rolled back job never exists nor runs, a committed one is worked', async () => {
    const seen: string[] = [];
    await worker.work('test.record', async (job) => void seen.push(job.data.value));

    let rolledBack = '';
    await expect(
      app.orm.em.fork().transactional(async (tx) => {
        rolledBack = (await sender.send(tx, 'test.record', { value: 'rolled back' }))!;
        // Visible in the transaction that wrote it, invisible to every other connection until commit.
        const inside = firstOf(await tx.execute<{ n: number }[]>(`select count(*)::int as n from ${JOB_SCHEMA}.job where id = ?`, [rolledBack]));
        expect(inside.n).toBe(1);
        expect(await jobRows(rolledBack)).toBe(0);
        throw new Error('the order could not be placed');
      }),
    ).rejects.toThrow('the order could not be placed');
    expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/);

    const committed = await app.orm.em.fork().transactional((tx) => sender.send(tx, 'test.record', { value: 'committed' }));
    const done = await waitForJob(sender, 'test.record', committed!);
    expect(done.state).toBe('completed');
    expect(seen).toEqual(['committed']);
    expect(await jobRows(rolledBack)).toBe(0);
  });

  it('without a transaction, a job is committed at once', async () => {
    const id = await sender.send(app.orm.em.fork(), 'test.unique', { key: 'no-transaction' });
    expect(await jobRows(id!)).toBe(1);
  });

  it('retries a failing handler with growing delays (exponential backoff) until it succeeds', async () => {
    const attempts: { at: number; retryCount: number }[] = [];
    await worker.work('test.flaky', async (job: ReceivedJob<{ failures: number }>) => {
      attempts.push({ at: Date.now(), retryCount: job.retryCount });
      if (attempts.length <= job.data.failures) throw new Error(`attempt ${attempts.length} fails`);
    });
    const id = await sender.send(app.orm.em.fork(), 'test.flaky', { failures: 2 });
    const done = await waitForJob(sender, 'test.flaky', id!);

    expect(done.state).toBe('completed');
    expect(done.retryCount).toBe(2);
    expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2]);
    // retryDelay 1 s with backoff: the first retry waits 1-2 s, the second 2-4 s (plus up to a poll).
    const first = itemAt(attempts, 1).at - itemAt(attempts, 0).at;
    const second = itemAt(attempts, 2).at - itemAt(attempts, 1).at;
    expect(first).toBeGreaterThanOrEqual(950);
    expect(first).toBeLessThan(3_000);
    expect(second).toBeGreaterThanOrEqual(1_950);
    expect(second).toBeLessThan(5_000);
  });

  it('lands a job failed, with its error, once the retry limit is spent; retry() runs it again', async () => {
    let attempts = 0;
    let providerUp = false;
    await worker.work('test.doomed', async () => {
      attempts += 1;
      if (!providerUp) throw new Error('the provider is down');
    });
    const id = await sender.send(app.orm.em.fork(), 'test.doomed', { value: 'x' });
    const failed = await waitForJob(sender, 'test.doomed', id!, ['failed']);
    expect(attempts).toBe(2); // the first attempt and retryLimit = 1 retry
    expect(failed.retryCount).toBe(1);
    expect(JSON.stringify(failed.output)).toContain('the provider is down');

    providerUp = true;
    expect(await sender.retry('test.doomed', [id!, '00000000-0000-4000-8000-000000000000'])).toBe(1);
    expect((await waitForJob(sender, 'test.doomed', id!, ['completed'])).state).toBe('completed');
    expect(attempts).toBe(3);
    expect(await sender.retry('test.doomed', [id!])).toBe(0); // only failed jobs
  });

  it('drops a duplicate by the definition singleton key while one is queued', async () => {
    const em = app.orm.em.fork();
    const first = await sender.send(em, 'test.unique', { key: 'cart-42' });
    const duplicate = await sender.send(em, 'test.unique', { key: 'cart-42' });
    const other = await sender.send(em, 'test.unique', { key: 'cart-43' });
    expect(first).toBeTruthy();
    expect(duplicate).toBeNull();
    expect(other).toBeTruthy();
  });

  it('stop() lets a running job finish before it resolves', async () => {
    const own = new JobQueue<TestJobs>(app.config, { url: pooledUrl(app.databaseUrl), ssl: false }, testLogger(), { definitions, worker: true });
    await own.start();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let finished = false;
    await own.work('test.slow', async (job) => {
      started();
      await new Promise((r) => setTimeout(r, job.data.ms));
      finished = true;
    });
    const id = await sender.send(app.orm.em.fork(), 'test.slow', { ms: 1_500 });
    await running;
    await own.stop();
    expect(finished).toBe(true);
    expect((await sender.getJob('test.slow', id!))?.state).toBe('completed');
  });

  it('refuses to start on a database without the queue schema, and says how to create it', async () => {
    const db = await createTestDatabase();
    try {
      const { Client } = await import('pg');
      const client = new Client({ connectionString: db.url });
      await client.connect();
      await client.query(`drop schema ${JOB_SCHEMA} cascade`);
      await client.end();
      const queue = new JobQueue<TestJobs>(app.config, { url: db.url, ssl: false }, testLogger(), { definitions });
      await expect(queue.start()).rejects.toThrow(/npm run db:migrate/);
      expect(queue.started).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it('the migrations install exactly the schema the installed pg-boss expects', async () => {
    const { PgBoss } = await import('pg-boss');
    const boss = new PgBoss({ connectionString: app.databaseUrl, schema: JOB_SCHEMA, migrate: false, supervise: false, schedule: false, max: 1 });
    await boss.start();
    try {
      const drift = await boss.detectSchemaDrift();
      expect(drift).toMatchObject({ ok: true, missingTables: [], missing: [], mismatched: [], missingFunctions: [], mismatchedFunctions: [] });
    } finally {
      await boss.stop();
    }
  });
});
