import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toTaxRateDto } from './taxes.mapper';
import type { TaxesService } from './taxes.service';

/** What the tax rates' operations need from the composition root. */
export interface TaxesDeps {
  taxes: TaxesService;
  pager: Pager;
}

export const taxesHandlers = {
  listTaxRates: async ({ em, query, services, selfUrl }) => {
    const rates = await services.taxes.list(em, { country: query.country }, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, rates, toTaxRateDto) };
  },

  createTaxRate: async ({ em, body, services, link }) => {
    const rate = await services.taxes.create(em, body);
    return { status: 201, body: toTaxRateDto(rate), headers: { Location: link('getTaxRate', { id: rate.id }) } };
  },

  getTaxRate: async ({ em, path, services }) => ({ status: 200, body: toTaxRateDto(await services.taxes.get(em, path.id)) }),

  updateTaxRate: async ({ em, path, body, services }) => ({ status: 200, body: toTaxRateDto(await services.taxes.update(em, path.id, body)) }),

  deleteTaxRate: async ({ em, path, services }) => {
    await services.taxes.delete(em, path.id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<TaxesDeps>>;
