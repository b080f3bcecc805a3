import type { EntityManager } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { Address } from './address.entity';

/** The address book's queries. */
export class AddressesRepository {
  /** A user's addresses, newest first. */
  list(em: EntityManager, userId: number, pick: PagePicker): Promise<Listing<Address>> {
    return findListing(em, Address, { user: userId }, { property: 'id', column: 'id', descending: true, key: (a) => a.id }, 'addresses:-id', pick);
  }

  /** One of the user's addresses, or null (another user's address is as good as missing). */
  ownedBy(em: EntityManager, userId: number, id: number): Promise<Address | null> {
    return em.findOne(Address, { id, user: userId });
  }

  async isEmpty(em: EntityManager, userId: number): Promise<boolean> {
    return (await em.count(Address, { user: userId })) === 0;
  }

  newest(em: EntityManager, userId: number): Promise<Address | null> {
    return em.findOne(Address, { user: userId }, { orderBy: { id: 'desc' } });
  }

  async clearDefault(em: EntityManager, userId: number): Promise<void> {
    await em.nativeUpdate(Address, { user: userId, isDefault: true }, { isDefault: false });
  }

  /** Serialises the changes to one user's address book (inside the caller's transaction). */
  async lockBook(em: EntityManager, userId: number): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`address-book:${userId}`]);
  }
}
