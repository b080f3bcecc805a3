import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Streaming replicas for the catalog's reads (DATABASE_REPLICA_URLS; docs/scaling.md, "Read
 * replicas"): which requests may read from one, and which replicas are fit to serve them.
 *
 * - **Per request.** A request may read from a replica only inside `withReplicaReads`, which its
 *   adapter opens for the catalog's REST operations and GraphQL queries, for a caller who has not
 *   written lately; everything else, and everything outside a request (jobs, the CLI, the monitor
 *   itself), reads from the primary. The driver (src/db/pools.ts) asks `replicaRoute` each time it
 *   picks the connection of a read outside a transaction, and keeps a request on its first replica.
 * - **Health.** A monitor checks every replica each DATABASE_REPLICA_CHECK_MS, on connections of
 *   its own: it must answer, be in recovery (a promoted or misconfigured server is not a replica of
 *   this primary), and have replayed what the primary had written DATABASE_REPLICA_MAX_LAG_MS ago.
 *   The lag is measured on the WAL, not with `now() - pg_last_xact_replay_timestamp()`, which grows
 *   while the primary is idle: the primary's `pg_current_wal_lsn()` is sampled each round, and a
 *   replica's lag is bounded from above by the time since the primary was last seen at a position
 *   its `pg_last_wal_replay_lsn()` has reached (0 once it reached the newest). A replica that fails
 *   a check, or a read (`fail`), is skipped until a check finds it fit again; each change is logged
 *   (warn when skipped, info when back).
 */

/**
 * A request allowed to read from a replica: present only while such a request runs (the adapters
 * open it for the catalog's reads alone, so every other request costs nothing here). `server` is the
 * replica its first read picked: the request's later reads stay on it while it is in use, so a list
 * and its count see the same point of the WAL.
 */
export interface ReadRoute {
  server?: unknown;
}

const routes = new AsyncLocalStorage<ReadRoute>();

/** Runs `run` (the rest of a request) with leave to read from a replica (its reads outside a transaction). */
export function withReplicaReads<T>(run: () => T): T {
  return routes.run({}, run);
}

/** The current request's route when it may read from a replica; undefined otherwise (and outside a request). */
export function replicaRoute(): ReadRoute | undefined {
  return routes.getStore();
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
  /** A check's statement, on a connection of the monitor's own (never one a request could be waiting for). */
  probe(sql: string): Promise<Record<string, unknown>[]>;
}

export interface ReplicaSetOptions {
  maxLagMs: number;
  checkIntervalMs: number;
  /** Runs a statement on the primary (on a connection of the monitor's own). */
  probePrimary(sql: string): Promise<Record<string, unknown>[]>;
  log(level: 'warn' | 'info', fields: Record<string, unknown>, message: string): void;
}

/** How long a check waits for a server's answer before it counts it as down. */
export const probeTimeoutMs = (checkIntervalMs: number) => Math.max(1000, 2 * checkIntervalMs);

/**
 * How old a replica's status may be when a read relies on it: a round's verdict stands until the
 * next round's, which starts an interval later and may wait a probe timeout for its answer. The
 * read-your-writes window must cover the lag bound plus this (src/config.ts checks it).
 */
export const statusAgeMs = (checkIntervalMs: number) => checkIntervalMs + probeTimeoutMs(checkIntervalMs);

/** Why a read on a replica went to the primary: `down` skips the replica; `refused` and `busy` (its pool had no connection in time) only send that read there. */
export type ReplicaFailure = 'down' | 'refused' | 'busy';

/** `X/Y` (two hex halves) as one number. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

interface State<C> extends ReplicaMember<C> {
  status: ReplicaStatus;
  lagMs: number | null;
  /** Its last check has not ended yet (a frozen server): it is not checked again until it has. */
  probing: boolean;
}

/** A WAL position of the primary: when it was first seen and when last (it stays there while the primary is idle). */
interface Sample {
  lsn: bigint;
  first: number;
  last: number;
}

export class ReplicaSet<C> {
  private readonly members: State<C>[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by each start and stop: a round of an older generation (in flight across a stop and a start) schedules nothing. */
  private generation = 0;
  private running = false;
  private primaryProbing = false;
  /** The primary's WAL positions, oldest first. */
  private samples: Sample[] = [];
  readonly primaryReads: Record<PrimaryReadReason, number> = { recent_write: 0, no_healthy_replica: 0, replica_failed: 0 };

  constructor(
    members: ReplicaMember<C>[],
    private readonly options: ReplicaSetOptions,
  ) {
    this.members = members.map((m) => ({ ...m, status: 'unknown', lagMs: null, probing: false }));
  }

  /** `preferred` while it is in use (the replica a request already read from), else a replica fit to read from, in turn; undefined when none is. */
  pick(preferred?: C): C | undefined {
    if (preferred !== undefined && this.members.some((m) => m.connection === preferred && m.status === 'ok')) return preferred;
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

  /** A read on `connection` failed because of the replica: a `down` one is skipped at once (a check brings it back). */
  fail(connection: C, err: unknown, kind: ReplicaFailure): void {
    this.primaryReads.replica_failed++;
    const member = this.members.find((m) => m.connection === connection);
    if (member && kind === 'down') this.change(member, 'down', null, err);
  }

  readings(): ReplicaReading[] {
    return this.members.map((m) => ({ name: m.name, status: m.status, lagSeconds: m.lagMs === null ? null : m.lagMs / 1000 }));
  }

  /** Starts checking (at once, then every interval after each round); the timer never keeps the process up. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    const round = async () => {
      await this.check();
      if (generation !== this.generation) return;
      this.timer = setTimeout(() => void round(), this.options.checkIntervalMs);
      this.timer.unref();
    };
    void round();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
  }

  /**
   * One round: the primary's position, then every replica at once. A server whose previous check
   * has not ended is not checked again (its status stands: `down` once that check timed out), so
   * a frozen server holds one hung connection at most. Never throws.
   */
  async check(now = () => Date.now()): Promise<void> {
    const timeout = probeTimeoutMs(this.options.checkIntervalMs);
    if (!this.primaryProbing) {
      this.primaryProbing = true;
      const probing = this.options.probePrimary('select pg_current_wal_lsn()::text as lsn').finally(() => (this.primaryProbing = false));
      try {
        const [row] = await bounded(probing, timeout);
        this.sample(now(), parseLsn(String(row?.lsn)));
      } catch {
        // The primary away (or itself in recovery): the replicas' lag is judged on the samples kept.
      }
    }
    await Promise.all(
      this.members.map(async (member) => {
        if (member.probing) return;
        member.probing = true;
        const probing = member.probe('select pg_is_in_recovery() as recovery, pg_last_wal_replay_lsn()::text as replayed').finally(() => (member.probing = false));
        try {
          const [row] = await bounded(probing, timeout);
          if (!row?.recovery || typeof row.replayed !== 'string') return this.change(member, 'not_replica', null);
          const lag = this.lagOf(parseLsn(row.replayed), now());
          this.change(member, lag === null || lag > this.options.maxLagMs ? 'lagging' : 'ok', lag);
        } catch (err) {
          this.change(member, 'down', null, err);
        }
      }),
    );
  }

  private sample(at: number, lsn: bigint): void {
    const last = this.samples.at(-1);
    if (last && lsn <= last.lsn) last.last = at;
    else this.samples.push({ lsn, first: at, last: at });
    // A replica that has not replayed past what the primary had this long ago is lagging anyway.
    const horizon = at - 2 * this.options.maxLagMs - 2 * this.options.checkIntervalMs;
    while (this.samples.length > 1 && this.samples[0]!.last < horizon) this.samples.shift();
  }

  /**
   * How far behind a replica that replayed `replayed` may be, at most (the bound is what matters:
   * a replica must not be used past it): the WAL it misses was written after the last time the
   * primary was seen at a position it has replayed. Null (unknown: skipped) when it is behind every
   * position kept, or no position was ever read. While the primary does not answer, the positions
   * age: once the newest is older than the lag bound, so is the lag (the primary may have written
   * since).
   */
  lagOf(replayed: bigint, now: number): number | null {
    const newest = this.samples.at(-1);
    if (!newest) return null;
    const behind = this.samples.findIndex((s) => s.lsn > replayed);
    if (behind === 0) return null;
    let lag = behind === -1 ? 0 : Math.max(0, now - this.samples[behind - 1]!.last);
    if (now - newest.last > this.options.maxLagMs) lag = Math.max(lag, now - newest.last);
    return lag;
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
