import { Migration } from '@mikro-orm/migrations';

/**
 * Catalog: the category tree, products and their variants, with the indexes product discovery
 * uses, full-text and trigram search, and the trigger that derives a product's price range and
 * stock from its active variants in the same transaction as any variant change.
 */
export class Migration20261126011530 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "categories" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "name" varchar(120) not null, "slug" varchar(140) not null, "description" text not null default '', "parent_id" int null, "is_active" boolean not null default true);`);
    this.addSql(`alter table "categories" add constraint "categories_slug_unique" unique ("slug");`);
    // Walking a subtree (the category filter of discovery, the tree read) follows parent_id.
    this.addSql(`create index "categories_parent_id_index" on "categories" ("parent_id");`);

    this.addSql(`create table "products" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "vendor_id" int not null, "category_id" int not null, "name" varchar(200) not null, "slug" varchar(220) not null, "description" text not null default '', "brand" varchar(100) not null default '', "sku" varchar(64) not null, "images" text[] not null default '{}', "is_active" boolean not null default true, "price" numeric(12,2) not null default 0, "max_price" numeric(12,2) not null default 0, "stock" int not null default 0, "in_stock" boolean not null default false, "rating_avg" numeric(3,2) not null default 0, "rating_count" int not null default 0, constraint products_rating_check check (rating_avg >= 0 and rating_avg <= 5 and rating_count >= 0), constraint products_stock_check check (stock >= 0), constraint products_price_check check (price >= 0 and max_price >= price));`);
    this.addSql(`alter table "products" add constraint "products_slug_unique" unique ("slug");`);
    this.addSql(`alter table "products" add constraint "products_sku_unique" unique ("sku");`);
    // A vendor's own catalog, newest first (active or not); also serves the vendor foreign key.
    this.addSql(`create index "products_vendor_created_idx" on "products" ("vendor_id", "created_at", "id");`);
    // Brand pages and the brand filter, by price.
    this.addSql(`create index "products_active_brand_price_idx" on "products" ("brand", "price", "id") where "is_active";`);
    // Category listings: one ordered index probe per category of the subtree, for each ordering.
    this.addSql(`create index "products_active_category_rating_idx" on "products" ("category_id", "rating_avg", "id") where "is_active";`);
    this.addSql(`create index "products_active_category_name_idx" on "products" ("category_id", "name", "id") where "is_active";`);
    this.addSql(`create index "products_active_category_created_idx" on "products" ("category_id", "created_at", "id") where "is_active";`);
    this.addSql(`create index "products_active_category_price_idx" on "products" ("category_id", "price", "id") where "is_active";`);
    // Listings without a category filter, for each ordering (partial: only active products are listed publicly).
    this.addSql(`create index "products_active_rating_idx" on "products" ("rating_avg", "id") where "is_active";`);
    this.addSql(`create index "products_active_name_idx" on "products" ("name", "id") where "is_active";`);
    this.addSql(`create index "products_active_created_idx" on "products" ("created_at", "id") where "is_active";`);
    this.addSql(`create index "products_active_price_idx" on "products" ("price", "id") where "is_active";`);

    this.addSql(`create table "product_variants" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "product_id" int not null, "sku" varchar(64) not null, "name" varchar(120) not null default '', "attributes" jsonb not null default '{}', "price" numeric(12,2) not null, "stock" int not null default 0, "is_active" boolean not null default true, constraint product_variants_price_check check (price >= 0), constraint product_variants_stock_check check (stock >= 0));`);
    // A product's variants (detail page, aggregate trigger, cascade).
    this.addSql(`create index "product_variants_product_id_index" on "product_variants" ("product_id");`);
    this.addSql(`alter table "product_variants" add constraint "product_variants_sku_unique" unique ("sku");`);

    this.addSql(`alter table "categories" add constraint "categories_parent_id_foreign" foreign key ("parent_id") references "categories" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "products" add constraint "products_vendor_id_foreign" foreign key ("vendor_id") references "users" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "products" add constraint "products_category_id_foreign" foreign key ("category_id") references "categories" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "product_variants" add constraint "product_variants_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete cascade;`);
    // Search: full text over name (A), brand (B) and description (C), and trigram matching on the
    // name for typos. The generated column is not mapped by the ORM; discovery queries read it.
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`alter table "products" add column "search_vector" tsvector generated always as (setweight(to_tsvector('english', "name"), 'A') || setweight(to_tsvector('english', "brand"), 'B') || setweight(to_tsvector('english', "description"), 'C')) stored;`);
    this.addSql(`create index "products_search_vector_idx" on "products" using gin ("search_vector") where "is_active";`);
    this.addSql(`create index "products_name_trgm_idx" on "products" using gin ("name" gin_trgm_ops) where "is_active";`);

    // A product's price, price range and stock follow its active variants, in the same transaction.
    // With no active variant the price range spans all variants and the stock is 0.
    this.addSql(`create function refresh_product_aggregates(pid integer) returns void language sql as $$
      update products p set
        price = coalesce(a.min_active, a.min_all, p.price),
        max_price = coalesce(a.max_active, a.max_all, p.max_price),
        stock = coalesce(a.stock, 0),
        in_stock = coalesce(a.stock, 0) > 0
      from (
        select min(price) filter (where is_active) as min_active, max(price) filter (where is_active) as max_active,
               min(price) as min_all, max(price) as max_all, sum(stock) filter (where is_active) as stock
        from product_variants where product_id = pid
      ) a
      where p.id = pid
        and (p.price, p.max_price, p.stock) is distinct from
            (coalesce(a.min_active, a.min_all, p.price), coalesce(a.max_active, a.max_all, p.max_price), coalesce(a.stock, 0));
    $$;`);
    this.addSql(`create function product_variants_refresh_product() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        perform refresh_product_aggregates(old.product_id);
        return old;
      end if;
      perform refresh_product_aggregates(new.product_id);
      if tg_op = 'UPDATE' and old.product_id <> new.product_id then
        perform refresh_product_aggregates(old.product_id);
      end if;
      return new;
    end $$;`);
    this.addSql(`create trigger "product_variants_refresh_product" after insert or delete or update of price, stock, is_active, product_id on "product_variants" for each row execute function product_variants_refresh_product();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "product_variants_refresh_product" on "product_variants";`);
    this.addSql(`drop function if exists product_variants_refresh_product();`);
    this.addSql(`drop function if exists refresh_product_aggregates(integer);`);
    this.addSql(`alter table "categories" drop constraint "categories_parent_id_foreign";`);

    this.addSql(`alter table "products" drop constraint "products_category_id_foreign";`);

    this.addSql(`alter table "product_variants" drop constraint "product_variants_product_id_foreign";`);

    this.addSql(`drop table if exists "categories" cascade;`);

    this.addSql(`drop table if exists "products" cascade;`);

    this.addSql(`drop table if exists "product_variants" cascade;`);
  }

}
