import type { Handlers } from '../../handlers';
import { toShipmentDto } from './shipments.mapper';

export const shipmentsHandlers = {
  getShipment: async ({ em, user, path, services }) => ({ status: 200, body: toShipmentDto(await services.shipments.get(em, user, path.order_id)) }),

  createShipment: async ({ em, path, body, services }) => ({
    status: 201,
    body: toShipmentDto(await services.shipments.create(em, path.order_id, body)),
  }),

  updateShipment: async ({ em, path, body, services }) => ({
    status: 200,
    body: toShipmentDto(await services.shipments.update(em, path.order_id, body)),
  }),
} satisfies Partial<Handlers>;
