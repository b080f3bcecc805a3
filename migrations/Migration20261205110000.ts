import { Migration } from '@mikro-orm/migrations';

/**
 * Product media: the images a product's vendor uploads (`product_media`), stored through the
 * storage driver under `storage_key`, with the keys of the variants the `media.resize` job makes.
 * The product's `images` column is rewritten from the ready media by the media context.
 */
export class Migration20261205110000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "product_media" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "product_id" int not null, "storage_key" varchar(255) not null, "alt" varchar(300) not null default '', "position" int not null, "width" int not null, "height" int not null, "content_type" text check ("content_type" in ('image/jpeg', 'image/png', 'image/webp')) not null, "size_bytes" int not null, "status" text check ("status" in ('processing', 'ready', 'failed')) not null default 'processing', "thumbnail_key" varchar(255) null, "medium_key" varchar(255) null, constraint product_media_position_check check (position >= 0), constraint product_media_size_check check (width > 0 and height > 0 and size_bytes > 0));`);
    // A product's media in position order: the media list (keyset on position, id), the images
    // written to the product, the count against MEDIA_MAX_PER_PRODUCT; also serves the foreign key
    // (deleting a product finds its media).
    this.addSql(`create index "product_media_product_position_idx" on "product_media" ("product_id", "position", "id");`);
    this.addSql(`alter table "product_media" add constraint "product_media_product_id_foreign" foreign key ("product_id") references "products" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "product_media" cascade;`);
  }

}
