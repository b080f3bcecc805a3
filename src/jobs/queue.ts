import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type { PgBoss } from 'pg-boss' with { 'resolution-mode': 'import' };
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Database } from '../db/database';
import type { JobDefinition, JobDefinitions } from './job';
import { jobDefinitions, type JobPayloads } from './registry';

export type { JobDefinition, JobDefinitions, QueuePolicy } from './job';

type PgBossModule = typeof import('pg-boss', { with: { 'resolution-mode': 'import' } });

/** The PostgreSQL schema holding the queue's tables; created by a migration (see migrations/). */
export const JOB_SCHEMA = 'pgboss';

export interface SendOptions {
  /** Not before this date, or this many seconds from now. */
  startAfter?: Date | number;
  /** Overrides the definition's `singletonKey` for this job. */
  singletonKey?: string;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Override the definition's retry policy for this job (pg-boss keeps it on the job). */
  retryLimit?: number;
  retryDelay?: number;
  retryDelayMax?: number;
}

/** A job as a worker receives it. `id` is stable across retries; `retryCount` is 0 on the first attempt. */
export interface ReceivedJob<P> {
  id: string;
  name: string;
  data: P;
  retryCount: number;
  /** Retries this job may have after its first attempt (`retryCount === retryLimit`: the last). */
  retryLimit: number;
  /** Aborted when the job expires or the worker stops without waiting. */
  signal: AbortSignal;
}

export interface WorkOptions {
  /** Jobs run at once by this process (default: the definition's, else JOBS_CONCURRENCY). */
  concurrency?: number;
  /** Seconds between polls when idle (default JOBS_POLL_SECONDS; at least 0.5). */
  pollIntervalSeconds?: number;
}

export type JobStateName = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** A stored job, for operations and tests. */
export interface JobRecord {
  id: string;
  name: string;
  state: JobStateName;
  retryCount: number;
  data: unknown;
  /** The handler's error when it failed. */
  output: unknown;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
}

export interface ScheduleRecord {
  name: string;
  cron: string;
  timezone: string;
  data: unknown;
}

export interface JobQueueOptions<M> {
  /**
   * This process works jobs: pg-boss's maintenance (expiring stuck jobs, retention) and its cron
   * scheduler run here, with a pool of JOBS_POOL_MAX connections. A web-only process leaves it off
   * and only sends.
   */
  worker?: boolean;
  /** The job definitions; the application's registry by default (tests bring their own). */
  definitions?: JobDefinitions<M>;
}

/**
 * The job queue: pg-boss on the application's PostgreSQL. Jobs are sent inside the caller's MikroORM
 * transaction, so a job exists if and only if the transaction that sent it commits.
 */
export class JobQueue<M extends object = JobPayloads> {
  readonly worker: boolean;
  private readonly definitions: JobDefinitions<M>;
  private lib?: PgBossModule;
  private boss?: PgBoss;
  /**
   * The process is stopping (a signal arrived): the queue's connections failing now are expected.
   * On Ctrl+C the terminal signals the embedded PostgreSQL too, which ends every connection at once.
   */
  private stopping = false;

  constructor(
    private readonly config: Config,
    /** Where the queue's tables are: the app's database, with the same TLS settings. */
    private readonly database: Pick<Database, 'url' | 'ssl'>,
    private readonly logger: Logger,
    options: JobQueueOptions<M> = {},
  ) {
    this.worker = options.worker ?? false;
    this.definitions = options.definitions ?? (jobDefinitions as unknown as JobDefinitions<M>);
  }

  /** Every registered job name. */
  get names(): (keyof M & string)[] {
    return Object.keys(this.definitions) as (keyof M & string)[];
  }

  get started(): boolean {
    return this.boss !== undefined;
  }

  /**
   * Connects and creates (or updates) a queue for every registered job. The pg-boss schema must
   * exist: migrations create it (`npm run db:migrate`); pg-boss never changes the schema at start.
   */
  async start(): Promise<void> {
    if (this.boss) return;
    // pg-boss is an ES module; this CommonJS build loads it with import().
    const lib = await import('pg-boss');
    const boss = new lib.PgBoss({
      connectionString: this.database.url,
      ssl: this.database.ssl,
      schema: JOB_SCHEMA,
      max: this.worker ? this.config.jobs.poolMax : 2,
      instanceName: this.worker ? 'worker' : 'web',
      migrate: false,
      supervise: this.worker,
      schedule: this.worker,
      // How soon a job whose worker died (missed heartbeats) or that overran its expiry is failed and retried.
      superviseIntervalSeconds: this.config.jobs.superviseSeconds,
      monitorIntervalSeconds: this.config.jobs.superviseSeconds,
    });
    boss.on('error', (err) => this.reportError(err));
    boss.on('warning', (warning) => this.logger.warn({ warning: warning.data }, `job queue: ${warning.message}`));
    try {
      await boss.start();
      this.lib = lib;
      this.boss = boss;
      await this.ensureQueues();
    } catch (err) {
      this.boss = undefined;
      await boss.stop({ graceful: false }).catch(() => undefined);
      if (err instanceof Error && /not installed|requires migrations/.test(err.message)) {
        throw new Error(`${err.message}: apply the migrations (npm run db:migrate)`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * A connection error of pg-boss. While stopping it is expected: debug. The server ending the
   * connection because it is shutting down (57P01) is a warning without a stack, logged a moment
   * later: on Ctrl+C the terminal signals the embedded PostgreSQL and this process at the same
   * instant, and the connection may fail before this process has seen its own signal.
   */
  private reportError(err: Error): void {
    const log = () => {
      if (this.stopping) this.logger.debug({ err: err.message }, 'job queue error while stopping');
      else if ((err as { code?: string }).code === '57P01') this.logger.warn({ code: '57P01' }, 'job queue: the database server ended the connection (it is shutting down); pg-boss reconnects');
      else this.logger.error({ err }, 'job queue error');
    };
    if (this.stopping || (err as { code?: string }).code !== '57P01') return log();
    setTimeout(log, 250).unref();
  }

  /**
   * The process is shutting down (call it as the signal arrives, before anything else stops): from
   * now on the queue's connection errors are expected, logged at debug, not as errors with stacks.
   */
  shuttingDown(): void {
    this.stopping = true;
  }

  /** Stops polling, waits up to SHUTDOWN_TIMEOUT_MS for running jobs to finish, then closes the pool. */
  async stop(): Promise<void> {
    this.stopping = true;
    const boss = this.boss;
    if (!boss) return;
    this.boss = undefined;
    await boss.stop({ graceful: true, timeout: Math.max(1000, this.config.http.shutdownTimeoutMs) });
  }

  /**
   * Enqueues a job on `em`'s connection: inside its transaction when it has one (the job is created
   * if and only if that transaction commits: pass the `em` that `em.transactional()` hands you),
   * otherwise at once. Returns the job id, or null when deduplication dropped it.
   */
  async send<N extends keyof M & string>(em: EntityManager, name: N, data: M[N], options: SendOptions = {}): Promise<string | null> {
    const { boss, lib } = this.running();
    const definition = this.definition(name);
    const connection = em.getTransactionContext<Knex.Transaction>() ?? em.getKnex();
    const singletonKey = options.singletonKey ?? definition.singletonKey?.(data);
    const group = definition.group?.(data);
    return boss.send(name, data as object, {
      // pg-boss runs its INSERT through this adapter, on the caller's transaction (MikroORM's knex
      // transaction: no second connection). pg-boss writes $1-style parameters; the adapter turns
      // them into knex's ? bindings and escapes the literal ? of jsonb operators.
      db: lib.fromKnex(connection),
      ...(singletonKey !== undefined && { singletonKey }),
      ...(options.startAfter !== undefined && { startAfter: options.startAfter }),
      ...(options.priority !== undefined && { priority: options.priority }),
      ...(group !== undefined && { group: { id: group } }),
      ...(options.retryLimit !== undefined && { retryLimit: options.retryLimit }),
      ...(options.retryDelay !== undefined && { retryDelay: options.retryDelay }),
      ...(options.retryDelayMax !== undefined && { retryDelayMax: options.retryDelayMax }),
      // A job's own retry policy replaces the queue's whole: the backoff with it.
      ...((options.retryLimit ?? options.retryDelay ?? options.retryDelayMax) !== undefined && { retryBackoff: definition.retryBackoff }),
    });
  }

  /**
   * Runs `handler` for each job of `name`. A handler that throws (or rejects) fails the attempt:
   * the job is retried per its definition, then lands `failed`.
   */
  async work<N extends keyof M & string>(
    name: N,
    handler: (job: ReceivedJob<M[N]>) => Promise<void>,
    options: WorkOptions = {},
  ): Promise<void> {
    const { boss } = this.running();
    const definition = this.definition(name);
    await boss.work<M[N]>(
      name,
      {
        batchSize: 1,
        localConcurrency: options.concurrency ?? definition.concurrency ?? this.config.jobs.concurrency,
        pollingIntervalSeconds: options.pollIntervalSeconds ?? this.config.jobs.pollIntervalSeconds,
        // With the job's retry limit, so a handler knows its last attempt.
        includeMetadata: true,
        ...(definition.groupConcurrency && { groupConcurrency: definition.groupConcurrency(this.config) }),
      },
      async (jobs) => {
        for (const job of jobs) {
          const received: ReceivedJob<M[N]> = {
            id: job.id,
            name: job.name,
            data: job.data,
            retryCount: job.retryCount,
            // includeMetadata: the job carries its retry limit.
            retryLimit: (job as unknown as { retryLimit: number }).retryLimit,
            signal: job.signal,
          };
          try {
            await handler(received);
          } catch (err) {
            this.logger.warn({ err, job: name, jobId: job.id, attempt: job.retryCount + 1 }, 'job attempt failed');
            throw err;
          }
        }
      },
    );
  }

  /** Creates or replaces the schedule of `name` (cron, UTC): a worker sends the job at each tick. */
  async schedule<N extends keyof M & string>(name: N, cron: string, data?: M[N]): Promise<void> {
    await this.running().boss.schedule(name, cron, data ?? {}, { tz: 'UTC' });
  }

  async unschedule(name: keyof M & string): Promise<void> {
    await this.running().boss.unschedule(name);
  }

  async schedules(): Promise<ScheduleRecord[]> {
    const rows = await this.running().boss.getSchedules();
    return rows.map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone, data: s.data ?? null }));
  }

  /** A job by id, whatever its state (finished jobs, completed or failed, are kept 7 days). */
  async getJob(name: keyof M & string, id: string): Promise<JobRecord | null> {
    const [job] = await this.running().boss.findJobs(name, { id });
    if (!job) return null;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      retryCount: job.retryCount,
      data: job.data,
      output: job.output ?? null,
      createdOn: job.createdOn,
      startedOn: job.startedOn ?? null,
      completedOn: job.completedOn ?? null,
    };
  }

  /**
   * Per queue: jobs waiting (created or retry, deferred ones included), running, and failed ones
   * still kept, for the metrics. Waiting and running are counted from the job table (an index
   * serves it: pg-boss's own counts are only refreshed by a worker's monitor pass, and a web
   * process has none); failed comes from pg-boss's queue stats (`getQueues`). Undefined when the
   * queue is not started.
   */
  async depths(): Promise<{ queue: string; queued: number; active: number; failed: number }[] | undefined> {
    const boss = this.boss;
    if (!boss) return undefined;
    const [live, queues] = await Promise.all([
      boss.getDb().executeSql(`SELECT name, state::text AS state, count(*)::int AS count FROM ${JOB_SCHEMA}.job WHERE state < 'completed' GROUP BY name, state`),
      boss.getQueues(this.names),
    ]);
    const byQueue = new Map<string, { queue: string; queued: number; active: number; failed: number }>(this.names.map((name) => [name, { queue: name, queued: 0, active: 0, failed: 0 }]));
    for (const row of live.rows as { name: string; state: string; count: number }[]) {
      const q = byQueue.get(row.name);
      if (!q) continue;
      if (row.state === 'active') q.active += row.count;
      else q.queued += row.count;
    }
    for (const q of queues) {
      const entry = byQueue.get(q.name);
      if (entry) entry.failed = q.failedCount;
    }
    return [...byQueue.values()];
  }

  /** Runs failed jobs again (a fresh round of retries); returns how many were failed and now queued. */
  async retry(name: keyof M & string, ids: string[]): Promise<number> {
    const { boss } = this.running();
    let queued = 0;
    for (const id of ids) {
      const job = await this.getJob(name, id);
      if (job?.state !== 'failed') continue;
      await boss.retry(name, id);
      queued += 1;
    }
    return queued;
  }

  /** Creates missing queues; retry options follow the definitions (a queue's policy cannot change). */
  private async ensureQueues(): Promise<void> {
    const { boss } = this.running();
    for (const name of this.names) {
      const d = this.definition(name);
      const options = {
        retryLimit: d.retryLimit,
        retryDelay: d.retryDelay,
        retryBackoff: d.retryBackoff,
        ...(d.retryDelayMax !== undefined && { retryDelayMax: d.retryDelayMax }),
        ...(d.expireInSeconds !== undefined && { expireInSeconds: d.expireInSeconds }),
      };
      const policy = d.policy ?? 'standard';
      const existing = await boss.getQueue(name);
      if (!existing) {
        await boss.createQueue(name, { ...options, policy, ...(d.heartbeatSeconds !== undefined && { heartbeatSeconds: d.heartbeatSeconds }) });
        continue;
      }
      if (existing.policy !== policy) {
        throw new Error(`job queue ${name} has policy ${existing.policy}, the registry says ${policy}: a policy cannot change, use a new job name`);
      }
      const changed = (Object.keys(options) as (keyof typeof options)[]).some((k) => existing[k] !== options[k]);
      if (changed) await boss.updateQueue(name, options);
    }
  }

  private definition<N extends keyof M & string>(name: N): JobDefinition<M[N]> {
    const definition = this.definitions[name];
    if (!definition) throw new Error(`unknown job ${name}: add it to src/jobs/registry.ts`);
    return definition;
  }

  private running(): { boss: PgBoss; lib: PgBossModule } {
    if (!this.boss || !this.lib) throw new Error('the job queue is not started: call start() first');
    return { boss: this.boss, lib: this.lib };
  }
}
