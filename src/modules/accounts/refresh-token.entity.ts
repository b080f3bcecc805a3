import { Entity, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from './user.entity';

/**
 * One issued refresh token. Tokens descended from one login share a family; a token is used
 * once (rotation), and presenting a used one revokes the whole family.
 */
@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken {
  /** The token's `jti`. */
  @PrimaryKey({ type: 'uuid' })
  id: string;

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: true })
  user: Ref<User>;

  /** Revoking a session revokes its family. */
  @Index({ name: 'refresh_tokens_family_id_index' })
  @Property({ type: 'uuid' })
  familyId: string;

  /** SHA-256 of the token: the token itself is never stored. */
  @Property({ type: 'string', length: 64 })
  tokenHash: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)' })
  expiresAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(id: string, user: Ref<User>, familyId: string, tokenHash: string, expiresAt: Date) {
    this.id = id;
    this.user = user;
    this.familyId = familyId;
    this.tokenHash = tokenHash;
    this.expiresAt = expiresAt;
  }
}
