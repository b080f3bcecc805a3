import type { EntityManager } from '@mikro-orm/postgresql';

/** A connection of the pool, outside any transaction: every statement commits on its own. */
export type LedgerConnection = ReturnType<EntityManager['getConnection']>;

export type SandboxChargeStatus = 'pending' | 'succeeded' | 'failed' | 'voided' | 'refunded' | 'closed';

export interface SandboxCharge {
  idempotency_key: string;
  reference: string;
  status: SandboxChargeStatus;
  failure_code: string | null;
}

export interface NewSandboxCharge {
  key: string;
  reference: string;
  amount: number;
  currency: string;
  method: string;
  status: 'pending' | 'succeeded' | 'failed';
  failureCode: string | null;
  /** For a pending charge: what it becomes, and when. */
  settles?: { afterMs: number; to: 'succeeded' | 'failed'; failureCode: string | null };
}

const COLUMNS = 'idempotency_key, reference, status, failure_code';

/**
 * The sandbox provider's ledger: the table `sandbox_provider_charges` (created by a migration; no
 * entity, nothing of ours reads it), standing in for the provider's own records. Every statement
 * runs on a pool connection of its own and commits at once, never inside our transactions, so the
 * ledger outlives a crash of our process exactly as a real provider's records would: after a kill
 * -9 the "provider" still knows whether it charged. Each change is one guarded statement, so
 * concurrent calls for one key serialise on its row.
 */
export class SandboxLedger {
  /** Records a new charge; null when the key already has one (an idempotent replay). */
  async insert(db: LedgerConnection, c: NewSandboxCharge): Promise<SandboxCharge | null> {
    const rows = await db.execute<SandboxCharge[]>(
      `insert into sandbox_provider_charges (idempotency_key, reference, amount, currency, method, status, failure_code, settles_at, settles_to, settles_failure_code)
       values (?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?::double precision / 1000), ?, ?)
       on conflict (idempotency_key) do nothing
       returning ${COLUMNS}`,
      [c.key, c.reference, c.amount, c.currency, c.method, c.status, c.failureCode, c.settles?.afterMs ?? null, c.settles?.to ?? null, c.settles?.failureCode ?? null],
    );
    return rows[0] ?? null;
  }

  /** The charge under the key, settled first if it was pending and its time has come. */
  async find(db: LedgerConnection, key: string): Promise<SandboxCharge | null> {
    await this.settle(db, key, { dueOnly: true });
    const rows = await db.execute<SandboxCharge[]>(`select ${COLUMNS} from sandbox_provider_charges where idempotency_key = ?`, [key]);
    return rows[0] ?? null;
  }

  /**
   * Settles a pending charge to what it was set to become (`dueOnly`: only once its time has come);
   * returns it if this call settled it, null if it was not pending (settled before, voided...).
   */
  async settle(db: LedgerConnection, key: string, options: { dueOnly: boolean }): Promise<SandboxCharge | null> {
    const rows = await db.execute<SandboxCharge[]>(
      `update sandbox_provider_charges
          set status = settles_to, failure_code = settles_failure_code, updated_at = now()
        where idempotency_key = ? and status = 'pending' ${options.dueOnly ? 'and settles_at <= now()' : ''}
        returning ${COLUMNS}`,
      [key],
    );
    return rows[0] ?? null;
  }

  /** Closes a key nothing was charged under: a charge arriving later under it is declined. False if the key has a charge. */
  async close(db: LedgerConnection, key: string): Promise<boolean> {
    const rows = await db.execute<{ idempotency_key: string }[]>(
      `insert into sandbox_provider_charges (idempotency_key, reference, status) values (?, ?, 'closed')
       on conflict (idempotency_key) do nothing returning idempotency_key`,
      [key, `closed_${key}`],
    );
    return rows.length > 0;
  }

  /**
   * Voids a pending charge or refunds (what is left of) a succeeded one, once; returns the charge as
   * it is now.
   */
  async reverse(db: LedgerConnection, key: string): Promise<SandboxCharge | null> {
    await db.execute(
      `update sandbox_provider_charges
          set status = case status when 'pending' then 'voided' else 'refunded' end,
              refunded_amount = case status when 'pending' then refunded_amount else coalesce(amount, 0) end,
              reversed_at = now(), updated_at = now()
        where idempotency_key = ? and status in ('pending', 'succeeded')`,
      [key],
    );
    const rows = await db.execute<SandboxCharge[]>(`select ${COLUMNS} from sandbox_provider_charges where idempotency_key = ?`, [key]);
    return rows[0] ?? null;
  }

  /**
   * Refunds part of a succeeded charge under its own key, in one statement: the charge's refunded
   * amount grows (never past what it took; at its whole amount the charge is `refunded`) and the
   * refund is recorded, or neither. Null when nothing was refunded now: a replay of the key (see
   * `findRefund`), or a refusal. Concurrent refunds of one charge serialise on its row; two of one
   * key cannot both be recorded (the key is the primary key, and the statement is atomic).
   */
  async refund(db: LedgerConnection, r: NewSandboxRefund): Promise<SandboxRefund | null> {
    try {
      const rows = await db.execute<SandboxRefund[]>(
        `with charged as (
           update sandbox_provider_charges
              set refunded_amount = refunded_amount + ?::bigint,
                  status = case when refunded_amount + ?::bigint = amount then 'refunded' else status end,
                  updated_at = now()
            where idempotency_key = ? and status = 'succeeded' and amount - refunded_amount >= ?::bigint
              and not exists (select 1 from sandbox_provider_refunds where refund_key = ?::varchar)
            returning idempotency_key)
         insert into sandbox_provider_refunds (refund_key, charge_key, reference, amount, currency)
         select ?::varchar, idempotency_key, ?::varchar, ?::bigint, ?::varchar from charged
         returning refund_key, charge_key, reference, amount`,
        [r.amount, r.amount, r.chargeKey, r.amount, r.key, r.key, r.reference, r.amount, r.currency],
      );
      return rows[0] ?? null;
    } catch (error) {
      // A concurrent call with the same key recorded it first: this statement changed nothing.
      if ((error as { code?: string }).code === '23505' || /duplicate key|unique/i.test(String((error as Error).message))) return null;
      throw error;
    }
  }

  /** The refund recorded under the key, if any. */
  async findRefund(db: LedgerConnection, key: string): Promise<SandboxRefund | null> {
    const rows = await db.execute<SandboxRefund[]>(`select refund_key, charge_key, reference, amount from sandbox_provider_refunds where refund_key = ?`, [key]);
    return rows[0] ?? null;
  }
}

export interface NewSandboxRefund {
  key: string;
  chargeKey: string;
  reference: string;
  amount: number;
  currency: string;
}

export interface SandboxRefund {
  refund_key: string;
  charge_key: string;
  reference: string;
  amount: string | number;
}
