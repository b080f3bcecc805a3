import { Migration } from '@mikro-orm/migrations';

/**
 * Category paths: `categories.path` holds the ids from the root down to the category itself
 * (`{1, 11, 71}`), kept by triggers on insert and on a change of parent (the whole moved subtree
 * is rewritten).
 *
 * Why: product discovery filters by a category and all its descendants. Walked with a recursive
 * CTE, the subtree is estimated by the planner at a fixed ~600 rows whatever its real size (a
 * recursive union is costed as its first term plus ten times its recursive term), so every plan
 * above it was costed for 600 categories: the per-category probes were estimated at 12,600 rows to
 * sort for a leaf holding one category, and numbered pages scanned the whole price index. With
 * `path @> array[id]` the estimate comes from the column's element statistics, which ANALYZE keeps
 * for every category of a tree of this size: 43 for a department, 7 for one of its categories, 1
 * for a leaf. Subtree reads stay a scan of a few hundred rows; no index is added (a GIN index on
 * `path` would only pay off with tens of thousands of categories).
 *
 * The trigger also refuses a parent change that would make a category its own ancestor
 * (check_violation, so the API maps it to a 409 like other constraint failures).
 */
export class Migration20261126013141 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "categories" add column "path" int[] not null default '{}';`);
    this.addSql(`create function categories_set_path() returns trigger language plpgsql as $$
    declare
      parent_path int[];
    begin
      if new.parent_id is null then
        new.path := array[new.id];
        return new;
      end if;
      select path into parent_path from categories where id = new.parent_id;
      if new.id = any(parent_path) then
        raise exception 'category % cannot become a descendant of itself', new.id
          using errcode = 'check_violation', constraint = 'categories_no_cycle';
      end if;
      -- A missing parent is left to the foreign key to refuse.
      new.path := coalesce(parent_path, '{}') || new.id;
      return new;
    end $$;`);
    this.addSql(`create function categories_move_subtree() returns trigger language plpgsql as $$
    begin
      update categories set path = new.path || path[cardinality(old.path) + 1:]
       where path @> array[new.id] and id <> new.id;
      return null;
    end $$;`);
    this.addSql(`create trigger "categories_set_path" before insert or update of parent_id on "categories" for each row execute function categories_set_path();`);
    this.addSql(`create trigger "categories_move_subtree" after update of parent_id on "categories" for each row when (old.parent_id is distinct from new.parent_id) execute function categories_move_subtree();`);
    this.addSql(`with recursive tree(id, path) as (
      select id, array[id] from categories where parent_id is null
      union all
      select c.id, t.path || c.id from categories c join tree t on c.parent_id = t.id
    ) update categories c set path = tree.path from tree where tree.id = c.id;`);
    this.addSql(`analyze categories;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "categories_move_subtree" on "categories";`);
    this.addSql(`drop trigger if exists "categories_set_path" on "categories";`);
    this.addSql(`drop function if exists categories_move_subtree();`);
    this.addSql(`drop function if exists categories_set_path();`);
    this.addSql(`alter table "categories" drop column "path";`);
  }

}
