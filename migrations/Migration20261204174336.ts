import { Migration } from '@mikro-orm/migrations';

/**
 * Account recovery: mailed single-use tokens (password reset, email verification), stored as
 * SHA-256 hashes, and when a user's email was verified. Accounts that exist already start
 * unverified (nothing proved their address); they can ask for a verification mail.
 */
export class Migration20261204174336 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "account_tokens" ("id" serial primary key, "user_id" int not null, "purpose" text check ("purpose" in ('password_reset', 'email_verification')) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz(3) not null, "used_at" timestamptz(3) null, "created_at" timestamptz(3) not null default now());`);
    this.addSql(`alter table "account_tokens" add constraint "account_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "account_tokens_user_purpose_index" on "account_tokens" ("user_id", "purpose");`);

    this.addSql(`alter table "account_tokens" add constraint "account_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "users" add column "email_verified_at" timestamptz(3) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "account_tokens" cascade;`);

    this.addSql(`alter table "users" drop column "email_verified_at";`);
  }

}
