import { Migration } from '@mikro-orm/migrations';

/** Accounts: users and the refresh tokens of their sessions. */
export class Migration20261126010110 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "users" ("id" serial primary key, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "username" varchar(150) not null, "email" varchar(254) not null, "password_hash" varchar(255) not null, "first_name" varchar(150) not null default '', "last_name" varchar(150) not null default '', "phone" varchar(20) null, "role" text check ("role" in ('customer', 'vendor', 'admin')) not null default 'customer', "is_active" boolean not null default true, "token_version" int not null default 0, "last_login" timestamptz(3) null);`);
    // Registration and profile updates check emails regardless of case; also enforces that uniqueness.
    this.addSql(`create unique index "users_email_lower_unique" on "users" (lower("email"));`);
    // Login looks the user up by lower(username); also enforces case-insensitive uniqueness.
    this.addSql(`create unique index "users_username_lower_unique" on "users" (lower("username"));`);

    this.addSql(`create table "refresh_tokens" ("id" uuid not null, "user_id" int not null, "family_id" uuid not null, "token_hash" varchar(64) not null, "expires_at" timestamptz(3) not null, "used_at" timestamptz(3) null, "revoked_at" timestamptz(3) null, "created_at" timestamptz(3) not null default now(), constraint "refresh_tokens_pkey" primary key ("id"));`);
    // Password change and deactivation revoke every refresh token of a user.
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id");`);
    // Logout and reuse detection revoke a whole token family.
    this.addSql(`create index "refresh_tokens_family_id_index" on "refresh_tokens" ("family_id");`);

    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

}
