import { Migration } from '@mikro-orm/migrations';

/** Shopper features: address books, carts, wishlists and reviews. */
export class Migration20261126013848 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "reviews" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null, "product_id" int not null, "rating" smallint not null, "title" varchar(120) not null default '', "comment" text not null default '', "verified_purchase" boolean not null default false, constraint reviews_rating_check check (rating between 1 and 5));`);
    // A user's reviews, newest first.
    this.addSql(`create index "reviews_user_created_idx" on "reviews" ("user_id", "created_at", "id");`);
    // A product's reviews by rating, or newest first (next index).
    this.addSql(`create index "reviews_product_rating_idx" on "reviews" ("product_id", "rating", "id");`);
    this.addSql(`create index "reviews_product_created_idx" on "reviews" ("product_id", "created_at", "id");`);
    this.addSql(`alter table "reviews" add constraint "reviews_user_product_unique" unique ("user_id", "product_id");`);

    this.addSql(`create table "carts" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null, "coupon_code" varchar(40) null);`);
    this.addSql(`alter table "carts" add constraint "carts_user_id_unique" unique ("user_id");`);

    this.addSql(`create table "cart_items" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "cart_id" int not null, "variant_id" int not null, "quantity" int not null, "added_unit_price" numeric(12,2) not null, "added_at" timestamptz(3) not null default now(), constraint cart_items_quantity_check check (quantity between 1 and 100));`);
    // Finds the cart lines holding a variant (cascade on variant deletion).
    this.addSql(`create index "cart_items_variant_id_index" on "cart_items" ("variant_id");`);
    this.addSql(`alter table "cart_items" add constraint "cart_items_cart_variant_unique" unique ("cart_id", "variant_id");`);

    this.addSql(`create table "addresses" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null, "kind" text check ("kind" in ('home', 'work', 'other')) not null default 'home', "recipient_name" varchar(150) not null, "phone" varchar(20) null, "line1" varchar(200) not null, "line2" varchar(200) not null default '', "city" varchar(100) not null, "region" varchar(100) not null default '', "postal_code" varchar(20) not null, "country" varchar(2) not null, "is_default" boolean not null default false);`);
    // At most one default address per user, kept by the database.
    this.addSql(`create unique index "addresses_one_default_per_user" on "addresses" ("user_id") where "is_default";`);
    // A user's address book.
    this.addSql(`create index "addresses_user_id_index" on "addresses" ("user_id");`);

    this.addSql(`create table "wishlists" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null);`);
    this.addSql(`alter table "wishlists" add constraint "wishlists_user_id_unique" unique ("user_id");`);

    this.addSql(`create table "wishlist_items" ("id" serial primary key, "wishlist_id" int not null, "product_id" int not null, "created_at" timestamptz(3) not null default now());`);
    // Finds the wishlist items of a product (cascade on product deletion).
    this.addSql(`create index "wishlist_items_product_id_index" on "wishlist_items" ("product_id");`);
    // A wishlist, newest first.
    this.addSql(`create index "wishlist_items_wishlist_created_idx" on "wishlist_items" ("wishlist_id", "created_at", "id");`);
    this.addSql(`alter table "wishlist_items" add constraint "wishlist_items_wishlist_product_unique" unique ("wishlist_id", "product_id");`);

    this.addSql(`alter table "reviews" add constraint "reviews_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "reviews" add constraint "reviews_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "carts" add constraint "carts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "cart_items" add constraint "cart_items_cart_id_foreign" foreign key ("cart_id") references "carts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "cart_items" add constraint "cart_items_variant_id_foreign" foreign key ("variant_id") references "product_variants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "addresses" add constraint "addresses_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "wishlists" add constraint "wishlists_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "wishlist_items" add constraint "wishlist_items_wishlist_id_foreign" foreign key ("wishlist_id") references "wishlists" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "wishlist_items" add constraint "wishlist_items_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete cascade;`);

  }

  override async down(): Promise<void> {
    this.addSql(`alter table "cart_items" drop constraint "cart_items_cart_id_foreign";`);

    this.addSql(`alter table "wishlist_items" drop constraint "wishlist_items_wishlist_id_foreign";`);

    this.addSql(`drop table if exists "reviews" cascade;`);

    this.addSql(`drop table if exists "carts" cascade;`);

    this.addSql(`drop table if exists "cart_items" cascade;`);

    this.addSql(`drop table if exists "addresses" cascade;`);

    this.addSql(`drop table if exists "wishlists" cascade;`);

    this.addSql(`drop table if exists "wishlist_items" cascade;`);

  }

}
