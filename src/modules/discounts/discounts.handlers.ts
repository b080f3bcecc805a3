import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toDiscountDto } from './discounts.mapper';
import type { DiscountsService } from './discounts.service';

/** What the discounts' operations need from the composition root. */
export interface DiscountsDeps {
  discounts: DiscountsService;
  pager: Pager;
}

export const discountsHandlers = {
  listDiscounts: async ({ em, query, services, selfUrl }) => {
    const discounts = await services.discounts.list(em, { isActive: query.is_active }, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, discounts, toDiscountDto) };
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
} satisfies Partial<HandlerMap<DiscountsDeps>>;
