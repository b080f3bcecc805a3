import type { Handlers } from '../../handlers';
import { toAddressDto } from './addresses.mapper';

export const addressesHandlers = {
  listAddresses: async ({ em, user, query, services, req, url }) => {
    const scope = 'addresses:-id';
    const slice = await services.addresses.list(em, user, services.pager.request(query, scope));
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, toAddressDto) };
  },

  createAddress: async ({ em, user, body, services, link }) => {
    const address = await services.addresses.create(em, user, body);
    return { status: 201, body: toAddressDto(address), headers: { Location: link('getAddress', { id: address.id }) } };
  },

  getAddress: async ({ em, user, path, services }) => ({ status: 200, body: toAddressDto(await services.addresses.get(em, user, path.id)) }),

  updateAddress: async ({ em, user, path, body, services }) => ({
    status: 200,
    body: toAddressDto(await services.addresses.update(em, user, path.id, body)),
  }),

  deleteAddress: async ({ em, user, path, services }) => {
    await services.addresses.delete(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<Handlers>;
