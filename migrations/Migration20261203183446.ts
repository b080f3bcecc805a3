import { Migration } from '@mikro-orm/migrations';

/**
 * Crash-safe payments: whether the provider's answer to a charge is recorded (a payment without it
 * has an unknown outcome and is reconciled), the reconciliation's index, and the sandbox provider's
 * ledger.
 */
export class Migration20261203183446 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "payments" add column "provider_answered" boolean not null default false;`);
    // Payments recorded before: every one has its answer, except a pending one without a provider
    // reference, which a crash between the charge and its record left behind; reconciliation asks
    // the provider about those.
    this.addSql(`update "payments" set "provider_answered" = true where not ("status" = 'pending' and "provider_reference" is null);`);
    this.addSql(`create index "payments_pending_idx" on "payments" ("updated_at") where "status" = 'pending';`);

    // The sandbox provider's records, standing in for a real provider's (SandboxLedger): written on
    // their own autocommit connection, never in the application's transactions, so they survive a
    // crash of the application as a provider's would. No entity maps it (like job_effects).
    this.addSql(`create table "sandbox_provider_charges" (
      "idempotency_key" varchar(100) not null,
      "reference" varchar(100) not null,
      "amount" bigint null,
      "currency" varchar(3) null,
      "method" varchar(10) null,
      "status" varchar(10) not null,
      "failure_code" varchar(60) null,
      "settles_at" timestamptz(3) null,
      "settles_to" varchar(10) null,
      "settles_failure_code" varchar(60) null,
      "reversed_at" timestamptz(3) null,
      "created_at" timestamptz(3) not null default now(),
      "updated_at" timestamptz(3) not null default now(),
      constraint "sandbox_provider_charges_pkey" primary key ("idempotency_key"),
      constraint "sandbox_provider_charges_status_check" check ("status" in ('pending', 'succeeded', 'failed', 'voided', 'refunded', 'closed')));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sandbox_provider_charges";`);
    this.addSql(`drop index "payments_pending_idx";`);
    this.addSql(`alter table "payments" drop column "provider_answered";`);
  }
}
