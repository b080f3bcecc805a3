import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Streaming replicas for the catalog's reads (DATABASE_REPLICA_URLS; docs/scaling.md, "Read
 * replicas"): which requests may read from one, and which replicas are fit to serve them.
 *
 * - **Per request.** A request may read from a replica only when its adapter says so
 *   (`allowReplicaReads`: the catalog's REST operations and GraphQL queries, for a caller who has
 *   not written lately); everything else, and everything outside a request (jobs, the CLI, the
 *   monitor itself), reads from the primary. The driver (src/db/pools.ts) asks `replicaReadsAllowed`
 *   each time it picks the connection of a read outside a transaction.
 * - **Health.** A monitor checks every replica each DATABASE_REPLICA_CHECK_MS: it must answer, be in
 *   recovery (a promoted or misconfigured server is not a replica of this primary), and have
 *   replayed what the primary had written DATABASE_REPLICA_MAX_LAG_MS ago. The lag is measured on
 *   the WAL, not with `now() - pg_last_xact_replay_timestamp()`, which grows while the primary is
 *   idle: the primary's `pg_current_wal_lsn()` is sampled with the time it was first seen, and a
 *   replica's lag is the age of the oldest sample its `pg_last_wal_replay_lsn()` has not reached
 *   (0 once it reached them all). A replica that fails a check, or a read (`fail`), is skipped until
 *   a check finds it fit again; each change is logged (warn when skipped, info when back).
 */

/** What the current request allows; absent outside a request. Mutable: the adapters decide once they know the operation. */
export interface ReadRoute {
  replica: boolean;
}

const routes = new AsyncLocalStorage<ReadRoute>();

/** Runs `run` (the rest of a request) with a route that reads from the primary until `allowReplicaReads`. */
export function withReadRoute<T>(run: () => T): T {
  return routes.run({ replica: false }, run);
}

/** The current request may read from a replica (its reads outside a transaction). */
export function allowReplicaReads(): void {
  const route = routes.getStore();
  if (route) route.replica = true;
}

/** Whether the read about to run may go to a replica. */
export function replicaReadsAllowed(): boolean {
  return routes.getStore()?.replica === true;
}

/**
 * A replica as readiness and the metrics report it: `ok` (in use), `lagging` (behind the bound),
 * `down` (unreachable, or a read on it just failed), `not_replica` (not in recovery), `unknown`
 * (not checked yet).
 */
export type ReplicaStatus = 'ok' | 'lagging' | 'down' | 'not_replica' | 'unknown';

export interface ReplicaReading {
  name: string;
  status: ReplicaStatus;
  /** The measured lag (0 when caught up), or null when it could not be measured. */
  lagSeconds: number | null;
}

/** Why a read that could have gone to a replica went to the primary (`db_replica_primary_reads_total`). */
export type PrimaryReadReason = 'recent_write' | 'no_healthy_replica' | 'replica_failed';

/** One replica: its connection (opaque here) and a probe that runs a statement on it, without any fallback. */
export interface ReplicaMember<C> {
  name: string;
  connection: C;
  probe(sql: string): Promise<Record<string, unknown>[]>;
}

export interface ReplicaSetOptions {
  maxLagMs: number;
  checkIntervalMs: number;
  /** Runs a statement on the primary (its read pool: the writers' pool may be full). */
  probePrimary(sql: string): Promise<Record<string, unknown>[]>;
  log(level: 'warn' | 'info', fields: Record<string, unknown>, message: string): void;
}

/** `X/Y` (two hex halves) as one number. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

interface State<C> extends ReplicaMember<C> {
  status: ReplicaStatus;
  lagMs: number | null;
}

export class ReplicaSet<C> {
  private readonly members: State<C>[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** The primary's WAL positions, each with the time it was first seen, oldest first. */
  private samples: { at: number; lsn: bigint }[] = [];
  readonly primaryReads: Record<PrimaryReadReason, number> = { recent_write: 0, no_healthy_replica: 0, replica_failed: 0 };

  constructor(
    members: ReplicaMember<C>[],
    private readonly options: ReplicaSetOptions,
  ) {
    this.members = members.map((m) => ({ ...m, status: 'unknown', lagMs: null }));
  }

  /** A replica fit to read from, in turn; undefined when none is. */
  pick(): C | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.next + i) % this.members.length]!;
      if (member.status === 'ok') {
        this.next = (this.next + i + 1) % this.members.length;
        return member.connection;
      }
    }
    return undefined;
  }

  hasHealthy(): boolean {
    return this.members.some((m) => m.status === 'ok');
  }

  /** A read on `connection` failed because of the replica: skip it at once (a check brings it back). */
  fail(connection: C, err: unknown, kind: 'down' | 'refused'): void {
    this.primaryReads.replica_failed++;
    const member = this.members.find((m) => m.connection === connection);
    if (member && kind === 'down') this.change(member, 'down', null, err);
  }

  readings(): ReplicaReading[] {
    return this.members.map((m) => ({ name: m.name, status: m.status, lagSeconds: m.lagMs === null ? null : m.lagMs / 1000 }));
  }

  /** Starts checking (at once, then every interval after each round); the timer never keeps the process up. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const round = async () => {
      await this.check();
      if (this.stopped) return;
      this.timer = setTimeout(() => void round(), this.options.checkIntervalMs);
      this.timer.unref();
    };
    void round();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One round: the primary's position, then every replica at once. Never throws. */
  async check(now = () => Date.now()): Promise<void> {
    const timeout = Math.max(1000, 2 * this.options.checkIntervalMs);
    try {
      const [row] = await bounded(this.options.probePrimary('select pg_current_wal_lsn()::text as lsn'), timeout);
      this.sample(now(), parseLsn(String(row?.lsn)));
    } catch {
      // The primary away (or itself in recovery): the replicas' lag is judged on the samples kept.
    }
    await Promise.all(
      this.members.map(async (member) => {
        try {
          const [row] = await bounded(member.probe('select pg_is_in_recovery() as recovery, pg_last_wal_replay_lsn()::text as replayed'), timeout);
          if (!row?.recovery || typeof row.replayed !== 'string') return this.change(member, 'not_replica', null);
          const lag = this.lagOf(parseLsn(row.replayed), now());
          this.change(member, lag > this.options.maxLagMs ? 'lagging' : 'ok', lag);
        } catch (err) {
          this.change(member, 'down', null, err);
        }
      }),
    );
  }

  private sample(at: number, lsn: bigint): void {
    const last = this.samples.at(-1);
    if (!last || lsn > last.lsn) this.samples.push({ at, lsn });
    // Older samples than twice the bound say nothing more: a replica behind them is lagging anyway.
    const horizon = at - 2 * this.options.maxLagMs - 2 * this.options.checkIntervalMs;
    while (this.samples.length > 1 && this.samples[1]!.at < horizon) this.samples.shift();
  }

  /** How long ago the primary first had WAL the replica has not replayed yet (0: none). */
  private lagOf(replayed: bigint, now: number): number {
    const behind = this.samples.find((s) => s.lsn > replayed);
    return behind ? Math.max(0, now - behind.at) : 0;
  }

  private change(member: State<C>, status: ReplicaStatus, lagMs: number | null, err?: unknown): void {
    const was = member.status;
    member.status = status;
    member.lagMs = lagMs;
    if (was === status) return;
    const fields = { replica: member.name, status, was, lagSeconds: lagMs === null ? null : lagMs / 1000, ...(err ? { error: err instanceof Error ? err.message : JSON.stringify(err) } : {}) };
    if (status === 'ok') this.options.log('info', fields, `database replica ${member.name} is in use`);
    else this.options.log('warn', fields, `database replica ${member.name} is skipped (${status}): its reads go to the primary`);
  }
}

/** `work`, or a rejection once `ms` passed (a server that stopped answering on an open socket never fails by itself). */
function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
