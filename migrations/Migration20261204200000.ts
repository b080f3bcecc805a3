import { Migration } from '@mikro-orm/migrations';

/**
 * Returns and partial refunds: a buyer's return of some units of a delivered order's lines
 * (`returns`, `return_items`, each line's value snapshotted), the refunds of an order's payment
 * (`refunds`: recorded before the provider is called, keyed at the provider by their id), what an
 * order has given back (`orders.refunded_total`) and its `partially_refunded` payment status. The
 * sandbox provider's ledger learns partial refunds (`sandbox_provider_refunds`, and how much of
 * each charge went back).
 */
export class Migration20261204200000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "orders" add column "refunded_total" numeric(12,2) not null default 0;`);
    this.addSql(`alter table "orders" drop constraint if exists "orders_payment_status_check";`);
    this.addSql(`alter table "orders" add constraint "orders_payment_status_check" check ("payment_status" in ('unpaid', 'pending', 'paid', 'failed', 'partially_refunded', 'refunded'));`);
    this.addSql(`alter table "orders" add constraint "orders_refunded_total_check" check (refunded_total >= 0 and refunded_total <= total);`);

    this.addSql(`create table "returns" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "order_id" int not null, "user_id" int not null, "status" text check ("status" in ('requested', 'approved', 'rejected', 'received', 'refunded')) not null default 'requested', "reason" varchar(1000) not null, "amount" numeric(12,2) not null, "approved_at" timestamptz(3) null, "rejected_at" timestamptz(3) null, "received_at" timestamptz(3) null, "refunded_at" timestamptz(3) null, constraint returns_amount_check check (amount >= 0));`);
    // An order's returns, newest first.
    this.addSql(`create index "returns_order_created_idx" on "returns" ("order_id", "created_at", "id");`);
    // The admin list filtered by status, newest first.
    this.addSql(`create index "returns_status_created_idx" on "returns" ("status", "created_at", "id");`);
    this.addSql(`create index "returns_created_idx" on "returns" ("created_at", "id");`);
    this.addSql(`create index "returns_user_id_index" on "returns" ("user_id");`);
    this.addSql(`alter table "returns" add constraint "returns_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "returns" add constraint "returns_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete restrict;`);

    this.addSql(`create table "return_items" ("id" serial primary key, "return_id" int not null, "order_item_id" int not null, "quantity" int not null, "amount" numeric(12,2) not null, constraint return_items_quantity_check check (quantity > 0 and amount >= 0));`);
    this.addSql(`alter table "return_items" add constraint "return_items_return_order_item_unique" unique ("return_id", "order_item_id");`);
    this.addSql(`create index "return_items_order_item_id_index" on "return_items" ("order_item_id");`);
    this.addSql(`alter table "return_items" add constraint "return_items_return_id_foreign" foreign key ("return_id") references "returns" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "return_items" add constraint "return_items_order_item_id_foreign" foreign key ("order_item_id") references "order_items" ("id") on update cascade on delete restrict;`);

    this.addSql(`create table "refunds" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "order_id" int not null, "payment_id" int not null, "return_id" int null, "amount" numeric(12,2) not null, "currency" varchar(3) not null, "status" text check ("status" in ('requested', 'succeeded', 'failed')) not null default 'requested', "provider_reference" varchar(100) null, "failure_code" varchar(60) null, "succeeded_at" timestamptz(3) null, constraint refunds_amount_check check (amount > 0));`);
    this.addSql(`create index "refunds_order_id_index" on "refunds" ("order_id", "id");`);
    this.addSql(`create index "refunds_payment_id_index" on "refunds" ("payment_id");`);
    this.addSql(`create index "refunds_return_id_index" on "refunds" ("return_id");`);
    this.addSql(`alter table "refunds" add constraint "refunds_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "refunds" add constraint "refunds_payment_id_foreign" foreign key ("payment_id") references "payments" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "refunds" add constraint "refunds_return_id_foreign" foreign key ("return_id") references "returns" ("id") on update cascade on delete set null;`);

    // The sandbox provider's own records (no entity): how much of a charge went back, and each partial refund, keyed.
    this.addSql(`alter table "sandbox_provider_charges" add column "refunded_amount" bigint not null default 0;`);
    this.addSql(`create table "sandbox_provider_refunds" (
      "refund_key" varchar(100) not null,
      "charge_key" varchar(100) not null,
      "reference" varchar(100) not null,
      "amount" bigint not null,
      "currency" varchar(3) not null,
      "created_at" timestamptz(3) not null default now(),
      constraint "sandbox_provider_refunds_pkey" primary key ("refund_key"),
      constraint "sandbox_provider_refunds_amount_check" check ("amount" > 0));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sandbox_provider_refunds";`);
    this.addSql(`alter table "sandbox_provider_charges" drop column "refunded_amount";`);
    this.addSql(`drop table if exists "refunds" cascade;`);
    this.addSql(`drop table if exists "return_items" cascade;`);
    this.addSql(`drop table if exists "returns" cascade;`);
    this.addSql(`alter table "orders" drop constraint if exists "orders_refunded_total_check";`);
    this.addSql(`alter table "orders" drop constraint if exists "orders_payment_status_check";`);
    this.addSql(`alter table "orders" add constraint "orders_payment_status_check" check ("payment_status" in ('unpaid', 'pending', 'paid', 'failed', 'refunded'));`);
    this.addSql(`alter table "orders" drop column "refunded_total";`);
  }

}
