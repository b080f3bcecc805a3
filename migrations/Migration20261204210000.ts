import { Migration } from '@mikro-orm/migrations';

/**
 * Guest checkout: a cart belongs to an account or to a guest, known by the SHA-256 of its cart
 * token (`carts.token_hash`, exactly one of the two); an order belongs to an account or to a guest
 * (`orders.user_id` null, `guest_email`, and `guest_token_hash`: the cart token that reads, cancels
 * and pays it); a guest's Idempotency-Keys are per cart (`idempotency_keys.cart_id`, exactly one of
 * user and cart); a guest's coupon use has no user (`discount_redemptions.user_id` null).
 */
export class Migration20261204210000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "carts" alter column "user_id" drop not null;`);
    this.addSql(`alter table "carts" add column "token_hash" varchar(64) null;`);
    // Resolving a cart token (every guest request): the cart whose token hash it is.
    this.addSql(`alter table "carts" add constraint "carts_token_hash_unique" unique ("token_hash");`);
    this.addSql(`alter table "carts" add constraint "carts_owner_check" check ((user_id is null) <> (token_hash is null));`);

    this.addSql(`alter table "orders" alter column "user_id" drop not null;`);
    this.addSql(`alter table "orders" add column "guest_email" varchar(254) null, add column "guest_token_hash" varchar(64) null;`);
    this.addSql(`alter table "orders" add constraint "orders_buyer_check" check (user_id is not null or guest_email is not null);`);
    // Claiming a guest's orders into an account: the orders no account holds, by email (case-insensitive).
    this.addSql(`create index "orders_guest_email_idx" on "orders" (lower("guest_email")) where "user_id" is null;`);

    this.addSql(`alter table "idempotency_keys" alter column "user_id" drop not null;`);
    this.addSql(`alter table "idempotency_keys" add column "cart_id" int null;`);
    // A guest's retry finds the key its cart used before (claimIdempotencyKey).
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_cart_scope_key_unique" unique ("cart_id", "scope", "key");`);
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_owner_check" check ((user_id is null) <> (cart_id is null));`);

    this.addSql(`alter table "discount_redemptions" alter column "user_id" drop not null;`);
  }

  override async down(): Promise<void> {
    // Guests' rows have no account to fall back on: they go.
    this.addSql(`delete from "discount_redemptions" where "user_id" is null;`);
    this.addSql(`alter table "discount_redemptions" alter column "user_id" set not null;`);

    this.addSql(`delete from "idempotency_keys" where "user_id" is null;`);
    this.addSql(`alter table "idempotency_keys" drop constraint if exists "idempotency_keys_owner_check";`);
    this.addSql(`alter table "idempotency_keys" drop constraint if exists "idempotency_keys_cart_scope_key_unique";`);
    this.addSql(`alter table "idempotency_keys" drop column "cart_id";`);
    this.addSql(`alter table "idempotency_keys" alter column "user_id" set not null;`);

    this.addSql(`drop index if exists "orders_guest_email_idx";`);
    this.addSql(`alter table "orders" drop constraint if exists "orders_buyer_check";`);
    this.addSql(`alter table "orders" drop column "guest_token_hash", drop column "guest_email";`);
    // Refused while guest orders exist: they have no account to belong to (and orders are never deleted).
    this.addSql(`alter table "orders" alter column "user_id" set not null;`);

    this.addSql(`delete from "carts" where "user_id" is null;`);
    this.addSql(`alter table "carts" drop constraint if exists "carts_owner_check";`);
    this.addSql(`alter table "carts" drop constraint if exists "carts_token_hash_unique";`);
    this.addSql(`alter table "carts" drop column "token_hash";`);
    this.addSql(`alter table "carts" alter column "user_id" set not null;`);
  }

}
