import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { findSlice } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import type { PageRequest, Slice } from '../../shared/paging';
import { User } from '../accounts/user.entity';
import { Address } from './address.entity';

type AddressCreate = components['schemas']['AddressCreate'];
type AddressUpdate = components['schemas']['AddressUpdate'];

const notFound = () => DomainError.notFound('The address');

/** A user's address book. Changes to the default are serialised per user (the user row is locked). */
export class AddressesService {
  list(em: EntityManager, owner: Principal, page: PageRequest): Promise<Slice<Address>> {
    return findSlice(em, Address, { user: owner.id }, { property: 'id', column: 'id', descending: true, key: (a) => a.id }, page);
  }

  /** One of the owner's addresses; anyone else's answers 404. */
  async get(em: EntityManager, owner: Principal, id: number): Promise<Address> {
    const address = await this.find(em, owner, id);
    if (!address) throw notFound();
    return address;
  }

  /** One of the owner's addresses, or null (another user's address is as good as missing). */
  async find(em: EntityManager, owner: Principal, id: number): Promise<Address | null> {
    return em.findOne(Address, { id, user: owner.id });
  }

  async create(em: EntityManager, owner: Principal, input: AddressCreate): Promise<Address> {
    return em.transactional(async (tx) => {
      await this.lockBook(tx, owner.id);
      const address = new Address(tx.getReference(User, owner.id, { wrapped: true }), {
        recipientName: input.recipient_name.trim(),
        line1: input.line1.trim(),
        city: input.city.trim(),
        postalCode: input.postal_code.trim(),
        country: input.country,
      });
      this.apply(address, input);
      // The first address is the default.
      const first = (await tx.count(Address, { user: owner.id })) === 0;
      if (input.is_default || first) {
        await this.clearDefault(tx, owner.id);
        address.isDefault = true;
      }
      tx.persist(address);
      return address;
    });
  }

  async update(em: EntityManager, owner: Principal, id: number, patch: AddressUpdate): Promise<Address> {
    return em.transactional(async (tx) => {
      await this.lockBook(tx, owner.id);
      const address = await this.get(tx, owner, id);
      this.apply(address, patch);
      if (patch.recipient_name !== undefined) address.recipientName = patch.recipient_name.trim();
      if (patch.line1 !== undefined) address.line1 = patch.line1.trim();
      if (patch.city !== undefined) address.city = patch.city.trim();
      if (patch.postal_code !== undefined) address.postalCode = patch.postal_code.trim();
      if (patch.country !== undefined) address.country = patch.country;
      if (patch.is_default === true && !address.isDefault) {
        await this.clearDefault(tx, owner.id);
        address.isDefault = true;
      } else if (patch.is_default === false) {
        address.isDefault = false;
      }
      return address;
    });
  }

  /** Deletes an address; if it was the default, the newest remaining address becomes the default. */
  async delete(em: EntityManager, owner: Principal, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      await this.lockBook(tx, owner.id);
      const address = await this.get(tx, owner, id);
      const wasDefault = address.isDefault;
      tx.remove(address);
      await tx.flush();
      if (wasDefault) {
        const next = await tx.findOne(Address, { user: owner.id }, { orderBy: { id: 'desc' } });
        if (next) next.isDefault = true;
      }
    });
  }

  private apply(address: Address, fields: AddressUpdate): void {
    if (fields.kind !== undefined) address.kind = fields.kind;
    if (fields.phone !== undefined) address.phone = fields.phone;
    if (fields.line2 !== undefined) address.line2 = fields.line2.trim();
    if (fields.region !== undefined) address.region = fields.region.trim();
  }

  /** Serialises address-book changes of one user, so two requests cannot both set a default. */
  private async lockBook(em: EntityManager, userId: number): Promise<void> {
    await em.findOne(User, userId, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  private async clearDefault(em: EntityManager, userId: number): Promise<void> {
    await em.nativeUpdate(Address, { user: userId, isDefault: true }, { isDefault: false });
  }
}
