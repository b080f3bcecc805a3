import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { Address } from './address.entity';
import { AddressErrors } from './addresses.errors';
import type { AddressesRepository } from './addresses.repository';

export type AddressInput = components['schemas']['AddressCreate'];
export type AddressPatch = components['schemas']['AddressUpdate'];

/** An address as checkout copies it onto an order. */
export interface ShippingAddress {
  id: number;
  recipientName: string;
  phone: string | null;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
}

/** A user's address book. Changes to the default are serialised per user. */
export class AddressesService {
  constructor(private readonly addresses: AddressesRepository) {}

  list(em: EntityManager, owner: Principal, pick: PagePicker): Promise<Listing<Address>> {
    return this.addresses.list(em, owner.id, pick);
  }

  /** One of the owner's addresses; anyone else's answers 404. */
  async get(em: EntityManager, owner: Principal, id: number): Promise<Address> {
    const address = await this.addresses.ownedBy(em, owner.id, id);
    if (!address) throw AddressErrors.notFound();
    return address;
  }

  /** One of the owner's addresses to ship to, or null (another user's address is as good as missing). */
  shippingAddress(em: EntityManager, owner: Principal, id: number): Promise<ShippingAddress | null> {
    return this.addresses.ownedBy(em, owner.id, id);
  }

  async create(em: EntityManager, owner: Principal, input: AddressInput): Promise<Address> {
    return em.transactional(async (tx) => {
      await this.addresses.lockBook(tx, owner.id);
      const address = new Address(owner.id, {
        recipientName: input.recipient_name.trim(),
        line1: input.line1.trim(),
        city: input.city.trim(),
        postalCode: input.postal_code.trim(),
        country: input.country,
      });
      this.apply(address, input);
      // The first address is the default.
      const first = await this.addresses.isEmpty(tx, owner.id);
      if (input.is_default || first) {
        await this.addresses.clearDefault(tx, owner.id);
        address.isDefault = true;
      }
      tx.persist(address);
      return address;
    });
  }

  async update(em: EntityManager, owner: Principal, id: number, patch: AddressPatch): Promise<Address> {
    return em.transactional(async (tx) => {
      await this.addresses.lockBook(tx, owner.id);
      const address = await this.get(tx, owner, id);
      this.apply(address, patch);
      if (patch.recipient_name !== undefined) address.recipientName = patch.recipient_name.trim();
      if (patch.line1 !== undefined) address.line1 = patch.line1.trim();
      if (patch.city !== undefined) address.city = patch.city.trim();
      if (patch.postal_code !== undefined) address.postalCode = patch.postal_code.trim();
      if (patch.country !== undefined) address.country = patch.country;
      if (patch.is_default === true && !address.isDefault) {
        await this.addresses.clearDefault(tx, owner.id);
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
      await this.addresses.lockBook(tx, owner.id);
      const address = await this.get(tx, owner, id);
      const wasDefault = address.isDefault;
      tx.remove(address);
      await tx.flush();
      if (wasDefault) {
        const next = await this.addresses.newest(tx, owner.id);
        if (next) next.isDefault = true;
      }
    });
  }

  private apply(address: Address, fields: AddressPatch): void {
    if (fields.kind !== undefined) address.kind = fields.kind;
    if (fields.phone !== undefined) address.phone = fields.phone;
    if (fields.line2 !== undefined) address.line2 = fields.line2.trim();
    if (fields.region !== undefined) address.region = fields.region.trim();
  }
}
