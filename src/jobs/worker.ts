import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Services } from '../services';
import { jobHandlers, type JobContext, type JobHandler, type JobHandlers } from './handlers';
import { createMailer, type Mailer } from './mail';
import type { JobQueue, ReceivedJob } from './queue';
import { jobSchedules, type JobPayloads, type JobSchedule } from './registry';

export interface WorkerDeps {
  /** A started queue created with `worker: true`. */
  queue: JobQueue<JobPayloads>;
  orm: MikroORM;
  services: Services;
  config: Config;
  logger: Logger;
  /** Defaults to createMailer(config): SMTP when SMTP_URL is set, the log otherwise. */
  mailer?: Mailer;
  /** Replaces some handlers (tests). */
  handlers?: Partial<JobHandlers<JobPayloads>>;
}

export interface Worker {
  mailer: Mailer;
  queues: string[];
  schedules: JobSchedule[];
  /** Closes the mailer; stop the queue first (it waits for running jobs). */
  close(): Promise<void>;
}

/** The context of one attempt: a fresh EntityManager, a logger naming the job, and `once`. */
export function jobContext(job: ReceivedJob<unknown>, orm: MikroORM, logger: Logger): JobContext {
  const em = orm.em.fork();
  return {
    id: job.id,
    name: job.name,
    retryCount: job.retryCount,
    retryLimit: job.retryLimit,
    signal: job.signal,
    em,
    logger: logger.child({ job: job.name, jobId: job.id, attempt: job.retryCount + 1 }),
    async once(effect, run) {
      const done = await em.execute('select 1 from job_effects where job_id = ? and effect = ?', [job.id, effect]);
      if (done.length > 0) return false;
      await run();
      await em.execute('insert into job_effects (job_id, effect) values (?, ?) on conflict do nothing', [job.id, effect]);
      return true;
    },
  };
}

/**
 * Works every registered job in this process and keeps the schedules in step with the registry
 * (adding or updating each, removing those no longer listed). Used by `npm run worker` and, in the
 * single-machine default, by `npm start`.
 */
export async function startWorker({ queue, orm, services, config, logger, mailer, handlers }: WorkerDeps): Promise<Worker> {
  if (!queue.worker) throw new Error('startWorker needs a JobQueue created with { worker: true }');
  const mail = mailer ?? createMailer(config, logger);
  if (mail.transport === 'log' && config.env === 'production') logger.warn('SMTP_URL is not set: mail is only logged');
  const all: JobHandlers<JobPayloads> = { ...jobHandlers({ services, config, mailer: mail }), ...handlers };
  for (const name of queue.names) {
    const handler = all[name] as JobHandler<unknown>;
    await queue.work(name, (job) => handler(job.data, jobContext(job, orm, logger)));
  }

  const schedules = jobSchedules(config);
  for (const { name, cron } of schedules) await queue.schedule(name, cron);
  const wanted = new Set<string>(schedules.map((s) => s.name));
  for (const existing of await queue.schedules()) {
    if (!wanted.has(existing.name)) await queue.unschedule(existing.name as keyof JobPayloads);
  }
  logger.info({ queues: queue.names, schedules, mail: mail.transport }, 'worker running');
  return { mailer: mail, queues: queue.names, schedules, close: () => mail.close() };
}
