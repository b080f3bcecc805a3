import { Migration } from '@mikro-orm/migrations';

/**
 * Checkout: discounts and their redemptions, orders with price and address snapshots, idempotency
 * keys, the inventory ledger (written by a trigger on every stock change), payments and shipments.
 */
export class Migration20261126020730 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "discounts" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "code" varchar(40) not null, "description" varchar(500) not null default '', "kind" text check ("kind" in ('percentage', 'fixed')) not null, "value" numeric(12,2) not null, "valid_from" timestamptz(3) null, "valid_to" timestamptz(3) null, "is_active" boolean not null default true, "min_subtotal" numeric(12,2) null, "max_uses" int null, "max_uses_per_user" int null, "times_used" int not null default 0, constraint discounts_usage_check check (times_used >= 0 and (max_uses is null or times_used <= max_uses)), constraint discounts_value_check check (value > 0 and (kind <> 'percentage' or value <= 100)));`);
    // Coupon codes are looked up regardless of case; also enforces that uniqueness.
    this.addSql(`create unique index "discounts_code_lower_unique" on "discounts" (lower("code"));`);

    this.addSql(`create table "payment_events" ("id" varchar(100) not null, "type" varchar(40) not null, "received_at" timestamptz(3) not null default now(), constraint "payment_events_pkey" primary key ("id"));`);

    this.addSql(`create table "inventory_movements" ("id" bigserial primary key, "variant_id" int not null, "delta" int not null, "reason" text check ("reason" in ('initial', 'sale', 'cancellation', 'return', 'adjustment')) not null, "order_id" int null, "stock_after" int not null, "created_at" timestamptz(3) not null default now());`);
    // The ledger of an order (what a sale or cancellation moved).
    this.addSql(`create index "inventory_movements_order_id_index" on "inventory_movements" ("order_id");`);
    // A variant's stock history, in order (reconciliation).
    this.addSql(`create index "inventory_movements_variant_idx" on "inventory_movements" ("variant_id", "id");`);

    this.addSql(`create table "discount_products" ("discount_id" int not null, "product_id" int not null, constraint "discount_products_pkey" primary key ("discount_id", "product_id"));`);

    this.addSql(`create table "idempotency_keys" ("id" serial primary key, "user_id" int not null, "scope" varchar(20) not null, "key" varchar(100) not null, "request_hash" varchar(64) not null, "resource_id" int null, "created_at" timestamptz(3) not null default now());`);
    // Purging old keys by age.
    this.addSql(`create index "idempotency_keys_created_idx" on "idempotency_keys" ("created_at");`);
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_user_scope_key_unique" unique ("user_id", "scope", "key");`);

    this.addSql(`create table "discount_redemptions" ("id" serial primary key, "discount_id" int not null, "user_id" int not null, "order_id" int not null, "amount" numeric(12,2) not null, "created_at" timestamptz(3) not null default now());`);
    this.addSql(`create index "discount_redemptions_user_id_index" on "discount_redemptions" ("user_id");`);
    this.addSql(`alter table "discount_redemptions" add constraint "discount_redemptions_order_id_unique" unique ("order_id");`);
    // Per-user limits count a user's redemptions of a discount.
    this.addSql(`create index "discount_redemptions_discount_user_idx" on "discount_redemptions" ("discount_id", "user_id");`);

    this.addSql(`create table "orders" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null, "status" text check ("status" in ('pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')) not null default 'pending_payment', "payment_status" text check ("payment_status" in ('unpaid', 'pending', 'paid', 'failed', 'refunded')) not null default 'unpaid', "currency" varchar(3) not null, "subtotal" numeric(12,2) not null, "discount" numeric(12,2) not null default 0, "total" numeric(12,2) not null, "coupon_code" varchar(40) null, "discount_id" int null, "shipping_address_id" int null, "ship_recipient_name" varchar(150) not null, "ship_phone" varchar(20) null, "ship_line1" varchar(200) not null, "ship_line2" varchar(200) not null default '', "ship_city" varchar(100) not null, "ship_region" varchar(100) not null default '', "ship_postal_code" varchar(20) not null, "ship_country" varchar(2) not null, "expires_at" timestamptz(3) null, "paid_at" timestamptz(3) null, "cancelled_at" timestamptz(3) null, "shipped_at" timestamptz(3) null, "delivered_at" timestamptz(3) null, constraint orders_totals_check check (subtotal >= 0 and discount >= 0 and total >= 0 and total = subtotal - discount));`);
    this.addSql(`create index "orders_discount_id_index" on "orders" ("discount_id");`);
    this.addSql(`create index "orders_shipping_address_id_index" on "orders" ("shipping_address_id");`);
    // The expiry job finds unpaid orders past their deadline.
    this.addSql(`create index "orders_pending_expiry_idx" on "orders" ("expires_at") where "status" = 'pending_payment';`);
    // The admin order list filtered by status, newest first.
    this.addSql(`create index "orders_status_created_idx" on "orders" ("status", "created_at", "id");`);
    // A buyer's orders, newest first.
    this.addSql(`create index "orders_user_created_idx" on "orders" ("user_id", "created_at", "id");`);

    this.addSql(`create table "shipments" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "order_id" int not null, "carrier" varchar(60) not null, "tracking_number" varchar(100) not null, "status" text check ("status" in ('pending', 'shipped', 'in_transit', 'delivered', 'returned')) not null default 'pending', "shipped_at" timestamptz(3) null, "delivered_at" timestamptz(3) null);`);
    this.addSql(`alter table "shipments" add constraint "shipments_order_id_unique" unique ("order_id");`);

    this.addSql(`create table "payments" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "order_id" int not null, "method" text check ("method" in ('card', 'mobile')) not null, "amount" numeric(12,2) not null, "currency" varchar(3) not null, "status" text check ("status" in ('pending', 'succeeded', 'failed', 'refunded')) not null default 'pending', "provider" varchar(20) not null, "provider_reference" varchar(100) null, "failure_code" varchar(60) null, "succeeded_at" timestamptz(3) null);`);
    this.addSql(`alter table "payments" add constraint "payments_provider_reference_unique" unique ("provider_reference");`);
    // At most one live (pending or succeeded) payment per order: never charged twice.
    this.addSql(`create unique index "payments_one_live_per_order" on "payments" ("order_id") where "status" in ('pending', 'succeeded');`);
    // An order's payments, newest first.
    this.addSql(`create index "payments_order_id_index" on "payments" ("order_id", "id");`);

    this.addSql(`create table "order_items" ("id" serial primary key, "order_id" int not null, "variant_id" int not null, "product_id" int not null, "product_name" varchar(200) not null, "variant_name" varchar(120) not null default '', "sku" varchar(64) not null, "unit_price" numeric(12,2) not null, "quantity" int not null, "line_total" numeric(12,2) not null, constraint order_items_quantity_check check (quantity > 0 and line_total = unit_price * quantity));`);
    this.addSql(`create index "order_items_order_id_index" on "order_items" ("order_id");`);
    this.addSql(`create index "order_items_variant_id_index" on "order_items" ("variant_id");`);
    // Verified-purchase checks (did this user buy this product) and the restrict rule on product deletion.
    this.addSql(`create index "order_items_product_id_index" on "order_items" ("product_id");`);

    this.addSql(`alter table "inventory_movements" add constraint "inventory_movements_variant_id_foreign" foreign key ("variant_id") references "product_variants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "discount_products" add constraint "discount_products_discount_id_foreign" foreign key ("discount_id") references "discounts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "discount_products" add constraint "discount_products_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "discount_redemptions" add constraint "discount_redemptions_discount_id_foreign" foreign key ("discount_id") references "discounts" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "discount_redemptions" add constraint "discount_redemptions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "orders" add constraint "orders_discount_id_foreign" foreign key ("discount_id") references "discounts" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "orders" add constraint "orders_shipping_address_id_foreign" foreign key ("shipping_address_id") references "addresses" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "shipments" add constraint "shipments_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "payments" add constraint "payments_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "order_items" add constraint "order_items_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "order_items" add constraint "order_items_variant_id_foreign" foreign key ("variant_id") references "product_variants" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "order_items" add constraint "order_items_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete restrict;`);
    // A redemption belongs to one order.
    this.addSql(`alter table "discount_redemptions" add constraint "discount_redemptions_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete cascade;`);

    // The inventory ledger: every change of a variant's stock writes a movement in the same transaction.
    // The reason and order come from transaction-local settings (set_config('app.stock_reason', ..., true)),
    // so services say why stock moved; a change without a reason is recorded as an adjustment.
    this.addSql(`create function product_variants_record_movement() returns trigger language plpgsql as $$
    begin
      insert into inventory_movements (variant_id, delta, reason, order_id, stock_after)
      values (
        new.id,
        new.stock - (case when tg_op = 'INSERT' then 0 else old.stock end),
        case when tg_op = 'INSERT' then 'initial' else coalesce(nullif(current_setting('app.stock_reason', true), ''), 'adjustment') end,
        nullif(current_setting('app.order_id', true), '')::int,
        new.stock
      );
      return new;
    end $$;`);
    this.addSql(`create trigger "product_variants_record_movement_insert" after insert on "product_variants" for each row when (new.stock <> 0) execute function product_variants_record_movement();`);
    this.addSql(`create trigger "product_variants_record_movement_update" after update of stock on "product_variants" for each row when (old.stock is distinct from new.stock) execute function product_variants_record_movement();`);
    // Existing stock enters the ledger as its initial movement.
    this.addSql(`insert into inventory_movements (variant_id, delta, reason, stock_after) select id, stock, 'initial', stock from product_variants where stock <> 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "product_variants_record_movement_update" on "product_variants";`);
    this.addSql(`drop trigger if exists "product_variants_record_movement_insert" on "product_variants";`);
    this.addSql(`drop function if exists product_variants_record_movement();`);
    this.addSql(`alter table "discount_products" drop constraint "discount_products_discount_id_foreign";`);

    this.addSql(`alter table "discount_redemptions" drop constraint "discount_redemptions_discount_id_foreign";`);

    this.addSql(`alter table "orders" drop constraint "orders_discount_id_foreign";`);

    this.addSql(`alter table "shipments" drop constraint "shipments_order_id_foreign";`);

    this.addSql(`alter table "payments" drop constraint "payments_order_id_foreign";`);

    this.addSql(`alter table "order_items" drop constraint "order_items_order_id_foreign";`);

    this.addSql(`drop table if exists "discounts" cascade;`);

    this.addSql(`drop table if exists "payment_events" cascade;`);

    this.addSql(`drop table if exists "inventory_movements" cascade;`);

    this.addSql(`drop table if exists "discount_products" cascade;`);

    this.addSql(`drop table if exists "idempotency_keys" cascade;`);

    this.addSql(`drop table if exists "discount_redemptions" cascade;`);

    this.addSql(`drop table if exists "orders" cascade;`);

    this.addSql(`drop table if exists "shipments" cascade;`);

    this.addSql(`drop table if exists "payments" cascade;`);

    this.addSql(`drop table if exists "order_items" cascade;`);
  }

}
