import { Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from './user.entity';

export const ACCOUNT_TOKEN_PURPOSES = ['password_reset', 'email_verification'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * A token mailed to an account's address: a password reset or an email verification. Only its
 * SHA-256 is stored; it works once (`usedAt`) and until `expiresAt`. Using one, or changing the
 * email, marks the account's other live tokens of the purpose used as well.
 */
@Entity({ tableName: 'account_tokens' })
@Index({ name: 'account_tokens_user_purpose_index', properties: ['user', 'purpose'] })
export class AccountToken {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: false })
  user: Ref<User>;

  @Enum({ items: () => [...ACCOUNT_TOKEN_PURPOSES] })
  purpose: AccountTokenPurpose;

  /** SHA-256 (hex) of the token: the token itself is never stored. */
  @Property({ type: 'string', length: 64, unique: 'account_tokens_token_hash_unique' })
  tokenHash: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)' })
  expiresAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(user: Ref<User>, purpose: AccountTokenPurpose, tokenHash: string, expiresAt: Date) {
    this.user = user;
    this.purpose = purpose;
    this.tokenHash = tokenHash;
    this.expiresAt = expiresAt;
  }
}
