import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../../src/config';
import { ormOptions } from '../../../src/orm.config';
import { JobQueue } from '../../../src/jobs/queue';
import { jobDefinitions } from '../../../src/jobs/registry';
import { createTestDatabase } from '../../support/database';
import { testLogger, waitForJob } from '../../support/jobs';
import { pooledEnv, pooledUrl } from '../../support/pgbouncer';
import { spawnServer, startWorkerProcess, type WatchedProcess } from '../../support/processes';

// Three processes start here, each compiling the app with tsx: slow on a busy machine.
jest.setTimeout(120_000);

const root = join(__dirname, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('background job processes', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  // The processes (test/support/processes.ts) go through the run's PgBouncer when there is one.
  const on = () => ({ databaseUrl: db.url });
  const exitCode = async (p: WatchedProcess, signal: NodeJS.Signals) => (await p.stop(signal)).code;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('npm run worker: works jobs sent by another process, and stops cleanly on SIGTERM', async () => {
    const worker = startWorkerProcess(on());
    try {
      const ready = await worker.waitFor((l) => l.msg === 'worker running');
      expect(ready).toMatchObject({
        queues: ['mail.send', 'accounts.password-reset', 'carts.expire-abandoned', 'jobs.prune-effects', 'orders.expire', 'orders.expire-unpaid', 'payments.reconcile', 'payments.refund-order', 'checkout.purge-idempotency-keys', 'payments.refund', 'webhooks.deliver', 'webhooks.prune', 'catalog.import', 'media.resize', 'media.purge'],
        mail: 'log',
      });

      // Sent by "the web process": this test, in a transaction on its own connection.
      const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: 'j'.repeat(40) });
      const orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 2 }));
      const sender = new JobQueue(config, { url: db.url, ssl: false }, testLogger());
      await sender.start();
      try {
        const id = await orm.em.fork().transactional((tx) => sender.send(tx, 'mail.send', { to: 'ops@example.com', subject: 'Hello from a job', text: 'Sent by the worker process.' }));
        const logged = await worker.waitFor((l) => l.msg === 'mail (log transport: not delivered)');
        expect(logged).toMatchObject({ mail: { to: 'ops@example.com', subject: 'Hello from a job', messageId: `<${id}@localhost>` } });
      } finally {
        await sender.stop();
        await orm.close();
      }

      expect(await exitCode(worker, 'SIGTERM')).toBe(0);
      expect(worker.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: waiting for running jobs', 'stopped']));
    } finally {
      await worker.stop('SIGKILL');
    }
  });

  it('two worker processes (two nodes) on one queue work every job exactly once between them', async () => {
    const workers = [startWorkerProcess(on()), startWorkerProcess(on())];
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: 'j'.repeat(40) });
    const orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 2 }));
    const sender = new JobQueue(config, { url: db.url, ssl: false }, testLogger());
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l.msg === 'worker running')));
      await sender.start();
      const count = 40;
      const ids = await orm.em.fork().transactional(async (tx) => {
        const sent: (string | null)[] = [];
        for (let i = 0; i < count; i++) sent.push(await sender.send(tx, 'mail.send', { to: `node-${i}@example.com`, subject: `Job ${i}`, text: 'Worked by one of two nodes.' }));
        return sent;
      });
      const delivered = () => workers.flatMap((w) => w.lines.filter((l) => l.msg === 'mail (log transport: not delivered)').map((l) => (l.mail as { messageId: string }).messageId));
      for (let waited = 0; delivered().length < count && waited < 60_000; waited += 200) await new Promise((r) => setTimeout(r, 200));
      // Give a job worked twice the time to show up (both workers poll every 0.5 s) before counting.
      await new Promise((r) => setTimeout(r, 2000));
      expect(ids).not.toContain(null);
      expect(delivered().sort()).toEqual(ids.map((id) => `<${id}@localhost>`).sort());
      expect(new Set(delivered()).size).toBe(count);
      for (const w of workers) expect(await exitCode(w, 'SIGTERM')).toBe(0);
    } finally {
      await sender.stop();
      await orm.close();
      for (const w of workers) await w.stop('SIGKILL');
    }
  });

  it('npm start runs the worker in the web process by default (WORKER_IN_PROCESS), and stops both on SIGTERM', async () => {
    const server = spawnServer(on());
    try {
      await server.waitFor((l) => l.msg === 'worker running');
      const { port } = (await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening'))) as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(await exitCode(server, 'SIGTERM')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('with WORKER_IN_PROCESS=false the web process only serves', async () => {
    const server = spawnServer(on(), { WORKER_IN_PROCESS: 'false' });
    try {
      await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening'));
      expect(server.lines.some((l) => l.msg === 'worker running')).toBe(false);
      expect(await exitCode(server, 'SIGINT')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('npm run jobs:retry runs a failed job again', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: 'j'.repeat(40), JOBS_POLL_SECONDS: '0.5' });
    const orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 2 }));
    // No retries, so the failing handler below fails the job at once.
    const definitions = { ...jobDefinitions, 'carts.expire-abandoned': { ...jobDefinitions['carts.expire-abandoned'], retryLimit: 0 } };
    const queue = new JobQueue(config, { url: db.url, ssl: false }, testLogger(), { worker: true, definitions });
    await queue.start();
    try {
      await queue.work('carts.expire-abandoned', async () => {
        throw new Error('maintenance window');
      });
      const id = (await queue.send(orm.em.fork(), 'carts.expire-abandoned', {}))!;
      await waitForJob(queue, 'carts.expire-abandoned', id, ['failed']);
      await queue.stop();

      // The command line too goes through the run's PgBouncer when there is one.
      const url = pooledUrl(db.url);
      const child = spawn(tsx, ['src/cli/retry-jobs.ts', 'carts.expire-abandoned', id], { cwd: root, env: { ...process.env, ...pooledEnv(url), DATABASE_URL: url, JWT_SECRET: 'j'.repeat(40) } });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      expect(await new Promise((r) => child.on('exit', r))).toBe(0);
      expect(out).toContain('1 of 1 job(s) queued again');

      await queue.start();
      expect((await queue.getJob('carts.expire-abandoned', id))?.state).toMatch(/^(created|retry)$/);
    } finally {
      await queue.stop();
      await orm.close();
    }
  });
});
