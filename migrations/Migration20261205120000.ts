import { Migration } from '@mikro-orm/migrations';

/**
 * Catalog import: an uploaded file (`catalog_imports`, the file itself in the row so any worker node
 * reads it) with the progress its job commits batch by batch, and the rows it rejected
 * (`catalog_import_issues`).
 */
export class Migration20261205120000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "catalog_imports" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "user_id" int not null, "as_admin" boolean not null, "format" text check ("format" in ('csv', 'jsonl')) not null, "status" text check ("status" in ('queued', 'running', 'succeeded', 'failed')) not null default 'queued', "file" bytea null, "rows_total" int null, "rows_done" int not null default 0, "created" int not null default 0, "updated" int not null default 0, "rejected" int not null default 0, "failure_reason" varchar(1024) null, "started_at" timestamptz(3) null, "finished_at" timestamptz(3) null, constraint catalog_imports_progress_check check (rows_done >= 0 and created >= 0 and updated >= 0 and rejected >= 0 and created + updated + rejected <= rows_done));`);
    // The users foreign key (deleting a user deletes their imports).
    this.addSql(`create index "catalog_imports_user_id_index" on "catalog_imports" ("user_id");`);
    this.addSql(`alter table "catalog_imports" add constraint "catalog_imports_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "catalog_import_issues" ("id" serial primary key, "import_id" int not null, "row" int not null, "field" varchar(100) not null, "message" varchar(1024) not null);`);
    // An import's rejected rows in file order: its first 100 (GET /api/product/import/{id}/), the
    // cursor list of all of them (.../errors/, keyset on (row, id)), and the foreign key.
    this.addSql(`create index "catalog_import_issues_import_row_idx" on "catalog_import_issues" ("import_id", "row", "id");`);
    this.addSql(`alter table "catalog_import_issues" add constraint "catalog_import_issues_import_id_foreign" foreign key ("import_id") references "catalog_imports" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "catalog_import_issues" cascade;`);
    this.addSql(`drop table if exists "catalog_imports" cascade;`);
  }

}
