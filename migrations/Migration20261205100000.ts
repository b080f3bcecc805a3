import { Migration } from '@mikro-orm/migrations';

/**
 * Outgoing webhooks: partners' endpoints (`webhook_endpoints`, with their signing secrets), the
 * outbox of events written in the transaction of each change (`webhook_events`), one delivery per
 * event and subscribed endpoint (`webhook_deliveries`) and every HTTP attempt of it
 * (`webhook_attempts`). The subscribers of an event are found by scanning `webhook_endpoints`: a
 * handful of rows, no index.
 */
export class Migration20261205100000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_endpoints" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "url" varchar(2048) not null, "description" varchar(255) not null default '', "events" text[] not null, "enabled" boolean not null default true, "secret" varchar(100) not null, "previous_secret" varchar(100) null, "previous_secret_expires_at" timestamptz(3) null, "failure_streak" int not null default 0, "disabled_reason" varchar(255) null, "disabled_at" timestamptz(3) null);`);

    this.addSql(`create table "webhook_events" ("id" serial primary key, "type" varchar(40) not null, "aggregate_type" varchar(20) not null, "aggregate_id" int not null, "payload" jsonb not null, "created_at" timestamptz(3) not null default now());`);
    // The retention prune: events older than WEBHOOK_RETENTION_DAYS.
    this.addSql(`create index "webhook_events_created_at_index" on "webhook_events" ("created_at");`);

    this.addSql(`create table "webhook_deliveries" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "endpoint_id" int not null, "event_id" int not null, "status" text check ("status" in ('pending', 'succeeded', 'failed', 'cancelled')) not null default 'pending', "attempts" int not null default 0, "last_status_code" int null, "last_attempt_at" timestamptz(3) null, "delivered_at" timestamptz(3) null, "lease_expires_at" timestamptz(3) null);`);
    // The prune deletes an event's deliveries with it (the cascade finds them by event).
    this.addSql(`create index "webhook_deliveries_event_id_index" on "webhook_deliveries" ("event_id");`);
    // An endpoint's delivery log, newest first (and the cascade of an endpoint's deletion).
    this.addSql(`create index "webhook_deliveries_endpoint_id_id_index" on "webhook_deliveries" ("endpoint_id", "id");`);
    // The log filtered by status; and the pending deliveries the disabling of an endpoint cancels.
    this.addSql(`create index "webhook_deliveries_endpoint_id_status_id_index" on "webhook_deliveries" ("endpoint_id", "status", "id");`);
    // The deliveries in flight to an endpoint, counted under its row lock (its concurrency limit): only those holding a lease.
    this.addSql(`create index "webhook_deliveries_in_flight_index" on "webhook_deliveries" ("endpoint_id") where "lease_expires_at" is not null;`);

    this.addSql(`create table "webhook_attempts" ("id" serial primary key, "delivery_id" int not null, "at" timestamptz(3) not null, "status_code" int null, "duration_ms" int not null, "error" varchar(500) null, "response_excerpt" varchar(1024) null);`);
    // A delivery's attempts in order (its detail), and the cascade of its deletion.
    this.addSql(`create index "webhook_attempts_delivery_id_index" on "webhook_attempts" ("delivery_id");`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_event_id_foreign" foreign key ("event_id") references "webhook_events" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_delivery_id_foreign" foreign key ("delivery_id") references "webhook_deliveries" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_attempts" cascade;`);
    this.addSql(`drop table if exists "webhook_deliveries" cascade;`);
    this.addSql(`drop table if exists "webhook_events" cascade;`);
    this.addSql(`drop table if exists "webhook_endpoints" cascade;`);
  }

}
