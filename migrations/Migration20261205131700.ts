import { Migration } from '@mikro-orm/migrations';

/**
 * The search ranking cache's version (src/modules/catalog/search-ranking.ts): a counter bumped when
 * a transaction that changed what searches match or how they rank commits, in that transaction, so
 * a process that cached a search's ranked candidates sees, in the snapshot of its next read, that
 * they are stale.
 *
 * What counts as such a change: products inserted, deleted or truncated, or updated in a column a
 * search's static filters read (the text: name, brand, description, from which the generated
 * `search_vector` follows; category, vendor, status); categories inserted, deleted or truncated, or
 * updated in a column the subtree filter reads (`parent_id`, and `path`, which the
 * `categories_set_path` and `categories_move_subtree` triggers rewrite when a category moves; the
 * slug a filter may name) or their status. What does not: price, stock and ratings
 * (`refresh_product_aggregates` after a variant change, checkout, reviews) and images: the cache
 * never holds them (rows are read fresh and those filters applied then), so an order placed does not
 * invalidate every search. Column triggers fire when the column is in the statement's SET list,
 * changed or not: writing a name unchanged bumps too, which only costs a recomputation.
 *
 * How: the statement triggers only note the transaction (`catalog_search_changes`, one row per
 * transaction: inserts of different transactions never wait for each other), and a deferred
 * constraint trigger on that note bumps the counter when the transaction commits and removes the
 * note. The counter's one row is locked from then to the commit only, after every other lock the
 * transaction takes: catalog writers (an import batch, a product edit) do not queue behind each
 * other's whole transactions, and cannot deadlock on it.
 *
 * The epoch: a uuid drawn when the row is created. The version alone can go backwards (this
 * migration run down and up, a backup restored, a point-in-time recovery) and climb back to a number
 * a process cached candidates at, for other data; a process trusts its candidates only for the same
 * (epoch, version), and ranks again on another epoch.
 *
 * Triggers do not fire with `session_replication_role = replica`: rows applied by a logical
 * replication subscriber, or loaded by `pg_restore --disable-triggers`, bump nothing. After such a
 * load, bump the version by hand (`update catalog_search_version set version = version + 1`).
 *
 * Isolation: the bump updates the one row, so a catalog writer running REPEATABLE READ or
 * SERIALIZABLE fails at COMMIT with a serialization failure (40001) when another catalog transaction
 * committed after its snapshot was taken; catalog writers run READ COMMITTED (docs/scaling.md).
 *
 * Not mapped by the ORM (like `search_vector` and the trigger functions of the other migrations).
 */
export class Migration20261205131700 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "catalog_search_version" ("id" int primary key check ("id" = 1), "version" bigint not null default 0, "epoch" uuid not null default gen_random_uuid());`);
    this.addSql(`insert into "catalog_search_version" ("id", "version") values (1, 0);`);
    // Statistics from the start: never analyzed, the table is estimated at a couple of thousand rows,
    // which the searches' statements multiply into costs that turn JIT on (~10 ms each at 1M products).
    this.addSql(`analyze "catalog_search_version";`);
    // The transactions under way that changed what searches see (empty outside them).
    this.addSql(`create table "catalog_search_changes" ("xid" xid8 primary key);`);
    this.addSql(`create function catalog_search_changed() returns trigger language plpgsql as $$
    begin
      insert into catalog_search_changes (xid) values (pg_current_xact_id()) on conflict do nothing;
      return null;
    end $$;`);
    this.addSql(`create function catalog_search_version_bump() returns trigger language plpgsql as $$
    begin
      update catalog_search_version set version = version + 1 where id = 1;
      delete from catalog_search_changes where xid = new.xid;
      return null;
    end $$;`);
    this.addSql(`create constraint trigger "catalog_search_changes_bump" after insert on "catalog_search_changes" deferrable initially deferred for each row execute function catalog_search_version_bump();`);
    this.addSql(`create trigger "products_search_changed" after insert or delete or truncate on "products" for each statement execute function catalog_search_changed();`);
    this.addSql(`create trigger "products_search_changed_update" after update of name, brand, description, category_id, vendor_id, is_active on "products" for each statement execute function catalog_search_changed();`);
    this.addSql(`create trigger "categories_search_changed" after insert or delete or truncate on "categories" for each statement execute function catalog_search_changed();`);
    this.addSql(`create trigger "categories_search_changed_update" after update of parent_id, path, slug, is_active on "categories" for each statement execute function catalog_search_changed();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "categories_search_changed_update" on "categories";`);
    this.addSql(`drop trigger if exists "categories_search_changed" on "categories";`);
    this.addSql(`drop trigger if exists "products_search_changed_update" on "products";`);
    this.addSql(`drop trigger if exists "products_search_changed" on "products";`);
    this.addSql(`drop table if exists "catalog_search_changes";`);
    this.addSql(`drop function if exists catalog_search_version_bump();`);
    this.addSql(`drop function if exists catalog_search_changed();`);
    this.addSql(`drop table if exists "catalog_search_version";`);
  }

}
