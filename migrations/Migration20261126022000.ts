import { Migration } from '@mikro-orm/migrations';

/** Background jobs: side effects done per job (idempotent retries), and the abandoned-cart sweep. */
export class Migration20261126022000 extends Migration {
  override async up(): Promise<void> {
    // What a job has already done outside the database (JobContext.once): a retry skips it. Written by
    // the worker with SQL (no entity): keyed by the pg-boss job id and the effect's name.
    this.addSql(`create table "job_effects" ("job_id" uuid not null, "effect" varchar(100) not null, "done_at" timestamptz(3) not null default now(), constraint "job_effects_pkey" primary key ("job_id", "effect"));`);
    // jobs.prune-effects: deletes the records older than the retention.
    this.addSql(`create index "job_effects_done_at_idx" on "job_effects" ("done_at");`);
    // carts.expire-abandoned: the carts not changed since a cutoff, oldest first.
    this.addSql(`create index "carts_updated_at_idx" on "carts" ("updated_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "carts_updated_at_idx";`);
    this.addSql(`drop table if exists "job_effects";`);
  }
}
