/** Addresses: each user's address book. Owns the table `addresses`. */
import { Address } from './address.entity';

export { addressesHandlers, type AddressesDeps } from './addresses.handlers';
export { toAddressDto } from './addresses.mapper';
export { AddressesRepository } from './addresses.repository';
export { AddressesService, type AddressInput, type AddressPatch, type ShippingAddress } from './addresses.service';

/** The entities this context maps. */
export const addressesEntities = [Address];
