import pino from 'pino';
import type { JobHandlers } from '../../src/jobs/handlers';
import { LogMailer, type Mailer } from '../../src/jobs/mail';
import { JobQueue, type JobDefinitions, type JobRecord, type JobStateName } from '../../src/jobs/queue';
import { jobDefinitions, type JobPayloads } from '../../src/jobs/registry';
import { startWorker, type Worker } from '../../src/jobs/worker';
import type { TestApp } from './app';
import { eventually } from './checkout';
import { pooledUrl } from './pgbouncer';

export interface TestWorker {
  queue: JobQueue<JobPayloads>;
  worker: Worker;
  mailer: Mailer;
  stop(): Promise<void>;
}

export const testLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * A worker on the app's database, as `npm run worker` runs it (its own pg-boss instance, the app's
 * services), with a log mailer whose messages the test can read unless another mailer is given
 * (`createMailer(app.config, ...)` for the configured one).
 * `retryDelay` shortens every job's first retry delay (the registry's are minutes).
 */
export async function startTestWorker(
  app: TestApp,
  options: { handlers?: Partial<JobHandlers<JobPayloads>>; mailer?: Mailer; retryDelay?: number } = {},
): Promise<TestWorker> {
  const logger = testLogger();
  const definitions = Object.fromEntries(
    Object.entries(jobDefinitions).map(([name, d]) => [name, options.retryDelay === undefined ? d : { ...d, retryDelay: options.retryDelay }]),
  ) as JobDefinitions<JobPayloads>;
  const queue = new JobQueue(app.config, { url: pooledUrl(app.databaseUrl), ssl: false }, logger, { worker: true, definitions });
  await queue.start();
  const mailer = options.mailer ?? new LogMailer(app.config.mail.from, logger);
  const worker = await startWorker({ queue, orm: app.orm, services: app.services, config: app.config, logger, mailer, handlers: options.handlers });
  return {
    queue,
    worker,
    mailer,
    async stop() {
      await queue.stop();
      await worker.close();
    },
  };
}

/** Polls until the job reaches one of `states` (completed or failed by default). */
export async function waitForJob<M extends object>(
  queue: JobQueue<M>,
  name: keyof M & string,
  id: string,
  states: JobStateName[] = ['completed', 'failed'],
  timeoutMs = 30_000,
): Promise<JobRecord> {
  const job = await eventually(() => queue.getJob(name, id), (j) => j !== null && states.includes(j.state), timeoutMs);
  if (job && states.includes(job.state)) return job;
  throw new Error(`job ${name} ${id} is ${job?.state ?? 'missing'}, not ${states.join(' or ')}, after ${timeoutMs} ms`);
}
