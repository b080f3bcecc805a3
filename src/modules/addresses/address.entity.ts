import { Entity, Enum, Index, ManyToOne, type Opt, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';

const ADDRESS_KINDS = ['home', 'work', 'other'] as const;

/** An entry of a user's address book. Orders copy the address they ship to, so deleting it is safe. */
@Entity({ tableName: 'addresses' })
// The address book lists a user's addresses, default first.
@Index({ name: 'addresses_user_id_index', properties: ['user'] })
// At most one default address per user, kept by the database.
@Index({ name: 'addresses_one_default_per_user', expression: 'create unique index "addresses_one_default_per_user" on "addresses" ("user_id") where "is_default"' })
export class Address extends BaseEntity {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  @Enum({ items: () => [...ADDRESS_KINDS], default: 'home' })
  kind: (typeof ADDRESS_KINDS)[number] & Opt = 'home';

  @Property({ type: 'string', length: 150 })
  recipientName: string;

  @Property({ type: 'string', length: 20, nullable: true })
  phone: string | null = null;

  @Property({ type: 'string', length: 200 })
  line1: string;

  @Property({ type: 'string', length: 200, default: '' })
  line2: string & Opt = '';

  @Property({ type: 'string', length: 100 })
  city: string;

  @Property({ type: 'string', length: 100, default: '' })
  region: string & Opt = '';

  @Property({ type: 'string', length: 20 })
  postalCode: string;

  @Property({ type: 'string', length: 2 })
  country: string;

  @Property({ type: 'boolean', default: false })
  isDefault: boolean & Opt = false;

  constructor(userId: number, fields: { recipientName: string; line1: string; city: string; postalCode: string; country: string }) {
    super();
    this.user = ref(User, userId);
    this.recipientName = fields.recipientName;
    this.line1 = fields.line1;
    this.city = fields.city;
    this.postalCode = fields.postalCode;
    this.country = fields.country;
  }
}
