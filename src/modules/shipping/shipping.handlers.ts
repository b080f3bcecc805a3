import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toShippingMethodDto, toShippingZoneDto } from './shipping.mapper';
import type { ShippingService } from './shipping.service';

/** What the shipping administration's operations need from the composition root. */
export interface ShippingDeps {
  shipping: ShippingService;
  pager: Pager;
}

export const shippingHandlers = {
  listShippingZones: async ({ em, query, services, selfUrl }) => {
    const zones = await services.shipping.listZones(em, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, zones, toShippingZoneDto) };
  },

  createShippingZone: async ({ em, body, services, link }) => {
    const zone = await services.shipping.createZone(em, body);
    return { status: 201, body: toShippingZoneDto(zone), headers: { Location: link('getShippingZone', { id: zone.id }) } };
  },

  getShippingZone: async ({ em, path, services }) => ({ status: 200, body: toShippingZoneDto(await services.shipping.getZone(em, path.id)) }),

  updateShippingZone: async ({ em, path, body, services }) => ({ status: 200, body: toShippingZoneDto(await services.shipping.updateZone(em, path.id, body)) }),

  deleteShippingZone: async ({ em, path, services }) => {
    await services.shipping.deleteZone(em, path.id);
    return { status: 204 };
  },

  listShippingMethods: async ({ em, query, services, selfUrl }) => {
    const methods = await services.shipping.listMethods(em, { zoneId: query.zone }, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, methods, toShippingMethodDto) };
  },

  createShippingMethod: async ({ em, body, services, link }) => {
    const method = await services.shipping.createMethod(em, body);
    return { status: 201, body: toShippingMethodDto(method), headers: { Location: link('getShippingMethod', { id: method.id }) } };
  },

  getShippingMethod: async ({ em, path, services }) => ({ status: 200, body: toShippingMethodDto(await services.shipping.getMethod(em, path.id)) }),

  updateShippingMethod: async ({ em, path, body, services }) => ({
    status: 200,
    body: toShippingMethodDto(await services.shipping.updateMethod(em, path.id, body)),
  }),

  deleteShippingMethod: async ({ em, path, services }) => {
    await services.shipping.deleteMethod(em, path.id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<ShippingDeps>>;
