import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toAddressDto } from './addresses.mapper';
import type { AddressesService } from './addresses.service';

/** What the address book's operations need from the composition root. */
export interface AddressesDeps {
  addresses: AddressesService;
  pager: Pager;
}

export const addressesHandlers = {
  listAddresses: async ({ em, user, query, services, selfUrl }) => {
    const addresses = await services.addresses.list(em, user, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, addresses, toAddressDto) };
  },

  createAddress: async ({ em, user, body, services, link }) => {
    const address = await services.addresses.create(em, user, body);
    return { status: 201, body: toAddressDto(address), headers: { Location: link('getAddress', { id: address.id }) } };
  },

  getAddress: async ({ em, user, path, services }) => ({ status: 200, body: toAddressDto(await services.addresses.get(em, user, path.id)) }),

  updateAddress: async ({ em, user, path, body, services }) => ({ status: 200, body: toAddressDto(await services.addresses.update(em, user, path.id, body)) }),

  deleteAddress: async ({ em, user, path, services }) => {
    await services.addresses.delete(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<AddressesDeps>>;
