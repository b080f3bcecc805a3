import { Entity, Enum, Index, type Opt, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';

export const ROLES = ['customer', 'vendor', 'admin'] as const;
export type UserRole = (typeof ROLES)[number];

@Entity({ tableName: 'users' })
// Logins and registration look usernames and emails up regardless of case; these also enforce uniqueness.
@Index({ name: 'users_username_lower_unique', expression: 'create unique index "users_username_lower_unique" on "users" (lower("username"))' })
@Index({ name: 'users_email_lower_unique', expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))' })
export class User extends BaseEntity {
  @Property({ type: 'string', length: 150 })
  username: string;

  @Property({ type: 'string', length: 254 })
  email: string;

  @Property({ type: 'string', length: 255, hidden: true, lazy: false })
  passwordHash: string;

  @Property({ type: 'string', length: 150, default: '' })
  firstName: string & Opt = '';

  @Property({ type: 'string', length: 150, default: '' })
  lastName: string & Opt = '';

  @Property({ type: 'string', length: 20, nullable: true })
  phone: string | null = null;

  @Enum({ items: () => [...ROLES], default: 'customer' })
  role: UserRole & Opt = 'customer';

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  /** Bumped to invalidate every access token issued before (password change, deactivation). */
  @Property({ type: 'integer', default: 0 })
  tokenVersion: number & Opt = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastLogin: Date | null = null;

  /** When the owner last proved they read mail at `email` (null: not since it was set). */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  emailVerifiedAt: Date | null = null;

  constructor(username: string, email: string, passwordHash: string) {
    super();
    this.username = username;
    this.email = email;
    this.passwordHash = passwordHash;
  }
}
