import { Entity, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';

/** A remembered Idempotency-Key: the same key and body answer the same resource. */
@Entity({ tableName: 'idempotency_keys' })
@Unique({ name: 'idempotency_keys_user_scope_key_unique', properties: ['user', 'scope', 'key'] })
// Old keys are purged by age.
@Index({ name: 'idempotency_keys_created_idx', properties: ['createdAt'] })
export class IdempotencyKey {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  @Property({ type: 'string', length: 20 })
  scope: string;

  @Property({ type: 'string', length: 100 })
  key: string;

  @Property({ type: 'string', length: 64 })
  requestHash: string;

  @Property({ type: 'integer', nullable: true })
  resourceId: number | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(userId: number, scope: string, key: string, requestHash: string) {
    this.user = ref(User, userId);
    this.scope = scope;
    this.key = key;
    this.requestHash = requestHash;
  }
}
