import type { Handlers } from '../../handlers';
import { toDiscountDto } from './discounts.mapper';

export const discountsHandlers = {
  listDiscounts: async ({ em, query, services, req, url }) => {
    const scope = 'discounts:-id';
    const slice = await services.discounts.list(em, query, services.pager.request(query, scope));
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, toDiscountDto) };
  },

  createDiscount: async ({ em, body, services, link }) => {
    const discount = await services.discounts.create(em, body);
    return { status: 201, body: toDiscountDto(discount), headers: { Location: link('getDiscount', { id: discount.id }) } };
  },

  getDiscount: async ({ em, path, services }) => ({ status: 200, body: toDiscountDto(await services.discounts.get(em, path.id)) }),

  updateDiscount: async ({ em, path, body, services }) => ({ status: 200, body: toDiscountDto(await services.discounts.update(em, path.id, body)) }),

  deleteDiscount: async ({ em, path, services }) => {
    await services.discounts.delete(em, path.id);
    return { status: 204 };
  },
} satisfies Partial<Handlers>;
