import { Migration } from '@mikro-orm/migrations';

/**
 * Shipping and taxes: zones (countries and regions, one zone per area) with their methods and rates,
 * tax rates per country, region and product class, a product's tax class and a variant's weight,
 * and what an order paid for shipping and tax. Orders placed before keep no shipping method, no
 * shipping and no tax, and their lines no share of the discount: their totals stay as they were.
 */
export class Migration20261204190000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "shipping_zones" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "name" varchar(100) not null, "shipping_taxable" boolean not null default false);`);

    this.addSql(`create table "shipping_methods" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "zone_id" int not null, "name" varchar(100) not null, "carrier" varchar(100) not null default '', "delivery_days_min" int null, "delivery_days_max" int null, "rate_type" text check ("rate_type" in ('flat', 'subtotal', 'weight')) not null, "flat_price" numeric(12,2) null, "subtotal_tiers" jsonb not null default '[]', "weight_tiers" jsonb not null default '[]', "free_above" numeric(12,2) null, "is_active" boolean not null default true, constraint shipping_methods_days_check check (delivery_days_min is null or delivery_days_max is null or delivery_days_min <= delivery_days_max), constraint shipping_methods_rate_check check ((rate_type = 'flat') = (flat_price is not null)));`);
    // A zone's methods (the admin list and an address's options).
    this.addSql(`create index "shipping_methods_zone_id_index" on "shipping_methods" ("zone_id");`);

    this.addSql(`create table "shipping_zone_areas" ("id" serial primary key, "zone_id" int not null, "country" varchar(2) not null, "region" varchar(100) not null default '', constraint shipping_zone_areas_region_check check (region = btrim(region)));`);
    // A zone's areas (its detail and replacing them).
    this.addSql(`create index "shipping_zone_areas_zone_id_index" on "shipping_zone_areas" ("zone_id");`);
    // One zone per area; also finds an address's zone (its region, else its whole country).
    this.addSql(`create unique index "shipping_zone_areas_area_unique" on "shipping_zone_areas" ("country", lower("region"));`);

    this.addSql(`create table "tax_rates" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "country" varchar(2) not null, "region" varchar(100) not null default '', "tax_class" text check ("tax_class" in ('standard', 'reduced', 'zero')) not null default 'standard', "name" varchar(100) not null default '', "rate" numeric(6,3) not null, constraint tax_rates_region_check check (region = btrim(region)), constraint tax_rates_rate_check check (rate >= 0 and rate <= 100));`);
    // One rate per place and class; also an address's rates (its country's and its region's).
    this.addSql(`create unique index "tax_rates_place_class_unique" on "tax_rates" ("country", lower("region"), "tax_class");`);

    this.addSql(`alter table "shipping_methods" add constraint "shipping_methods_zone_id_foreign" foreign key ("zone_id") references "shipping_zones" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "shipping_zone_areas" add constraint "shipping_zone_areas_zone_id_foreign" foreign key ("zone_id") references "shipping_zones" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "products" add column "tax_class" text check ("tax_class" in ('standard', 'reduced', 'zero')) not null default 'standard';`);
    this.addSql(`alter table "product_variants" add column "weight_grams" int not null default 0;`);
    this.addSql(`alter table "product_variants" add constraint product_variants_weight_check check(weight_grams >= 0);`);

    this.addSql(`alter table "orders" drop constraint orders_totals_check;`);
    this.addSql(`alter table "orders" add column "shipping" numeric(12,2) not null default 0, add column "tax" numeric(12,2) not null default 0, add column "shipping_tax" numeric(12,2) not null default 0, add column "taxes_included" boolean not null default false, add column "shipping_method_id" int null, add column "shipping_method_name" varchar(100) null, add column "shipping_carrier" varchar(100) not null default '', add column "shipping_days_min" int null, add column "shipping_days_max" int null;`);
    this.addSql(`alter table "orders" add constraint orders_totals_check check(subtotal >= 0 and discount >= 0 and shipping >= 0 and tax >= 0 and total >= 0 and total = subtotal - discount + shipping + (case when taxes_included then 0 else tax end));`);

    this.addSql(`alter table "order_items" add column "discount" numeric(12,2) not null default 0, add column "tax_rate" numeric(6,3) not null default 0, add column "tax" numeric(12,2) not null default 0, add column "total" numeric(12,2) null;`);
    this.addSql(`update "order_items" set "total" = "line_total";`);
    this.addSql(`alter table "order_items" alter column "total" set not null;`);
    this.addSql(`alter table "order_items" add constraint order_items_amounts_check check(discount >= 0 and discount <= line_total and tax >= 0 and total >= 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "order_items" drop constraint order_items_amounts_check;`);
    this.addSql(`alter table "order_items" drop column "discount", drop column "tax_rate", drop column "tax", drop column "total";`);
    this.addSql(`alter table "orders" drop constraint orders_totals_check;`);
    this.addSql(`alter table "orders" drop column "shipping", drop column "tax", drop column "shipping_tax", drop column "taxes_included", drop column "shipping_method_id", drop column "shipping_method_name", drop column "shipping_carrier", drop column "shipping_days_min", drop column "shipping_days_max";`);
    this.addSql(`alter table "orders" add constraint orders_totals_check check(subtotal >= 0 and discount >= 0 and total >= 0 and total = subtotal - discount);`);
    this.addSql(`alter table "product_variants" drop constraint product_variants_weight_check;`);
    this.addSql(`alter table "product_variants" drop column "weight_grams";`);
    this.addSql(`alter table "products" drop column "tax_class";`);
    this.addSql(`drop table if exists "tax_rates" cascade;`);
    this.addSql(`drop table if exists "shipping_zone_areas" cascade;`);
    this.addSql(`drop table if exists "shipping_methods" cascade;`);
    this.addSql(`drop table if exists "shipping_zones" cascade;`);
  }

}
