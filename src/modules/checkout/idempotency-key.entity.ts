import { Check, Entity, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';

/** A remembered Idempotency-Key: the same key and body answer the same resource. */
@Entity({ tableName: 'idempotency_keys' })
@Unique({ name: 'idempotency_keys_user_scope_key_unique', properties: ['user', 'scope', 'key'] })
// A guest's keys are per cart (the cart its token names); a key belongs to an account or to a cart.
@Unique({ name: 'idempotency_keys_cart_scope_key_unique', properties: ['cartId', 'scope', 'key'] })
@Check({ name: 'idempotency_keys_owner_check', expression: '(user_id is null) <> (cart_id is null)' })
// Old keys are purged by age.
@Index({ name: 'idempotency_keys_created_idx', properties: ['createdAt'] })
export class IdempotencyKey {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'cascade' })
  user: Ref<User> | null;

  /** A guest cart's id (no foreign key: keys outlive nothing but their time to live, purged by age). */
  @Property({ type: 'integer', nullable: true })
  cartId: number | null = null;

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

  constructor(userId: number | null, scope: string, key: string, requestHash: string) {
    this.user = userId === null ? null : ref(User, userId);
    this.scope = scope;
    this.key = key;
    this.requestHash = requestHash;
  }
}
