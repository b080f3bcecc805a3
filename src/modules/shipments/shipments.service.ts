import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import { assertShipmentTransition, assertTransition, type ShipmentStatus } from '../orders/order-state';
import { Order } from '../orders/order.entity';
import type { OrdersService } from '../orders/orders.service';
import type { PaymentsService } from '../payments/payments.service';
import { Shipment } from './shipment.entity';

type ShipmentCreate = components['schemas']['ShipmentCreate'];
type ShipmentUpdate = components['schemas']['ShipmentUpdate'];

const notFound = () => DomainError.notFound('The shipment');
const exists = () => new DomainError('conflict', 'SHIPMENT_EXISTS', 'The order already has a shipment; update it instead.');

/** Shipments drive the order: shipped → shipped, delivered → delivered, returned → refunded. */
export class ShipmentsService {
  constructor(
    private readonly orders: OrdersService,
    private readonly payments: PaymentsService,
  ) {}

  /** The shipment of the viewer's order (admins: any); 404 before one exists or for others' orders. */
  async get(em: EntityManager, viewer: Principal, orderId: number): Promise<Shipment> {
    const order = await this.orders.findVisible(em, viewer, orderId);
    if (!order) throw notFound();
    const shipment = await em.findOne(Shipment, { order: orderId });
    if (!shipment) throw notFound();
    return shipment;
  }

  async create(em: EntityManager, orderId: number, input: ShipmentCreate): Promise<Shipment> {
    return em.transactional(async (tx) => {
      const order = await tx.findOne(Order, orderId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!order) throw notFound();
      if (await tx.count(Shipment, { order: orderId })) throw exists();
      // Only a paid order ships.
      assertTransition(order.status, 'shipped');
      const shipment = new Shipment(tx.getReference(Order, orderId, { wrapped: true }), input.carrier, input.tracking_number);
      tx.persist(shipment);
      if ((input.status ?? 'pending') === 'shipped') await this.move(tx, order, shipment, 'shipped');
      await tx.flush();
      return shipment;
    });
  }

  async update(em: EntityManager, orderId: number, patch: ShipmentUpdate): Promise<Shipment> {
    let refund = false;
    const shipment = await em.transactional(async (tx) => {
      const order = await tx.findOne(Order, orderId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const shipment = order && (await tx.findOne(Shipment, { order: orderId }, { lockMode: LockMode.PESSIMISTIC_WRITE }));
      if (!order || !shipment) throw notFound();
      if (patch.carrier !== undefined) shipment.carrier = patch.carrier;
      if (patch.tracking_number !== undefined) shipment.trackingNumber = patch.tracking_number;
      if (patch.status !== undefined && patch.status !== shipment.status) {
        await this.move(tx, order, shipment, patch.status);
        refund = patch.status === 'returned';
      }
      await tx.flush();
      return shipment;
    });
    if (refund) await this.payments.refundOrder(em, orderId);
    return shipment;
  }

  /** Moves the shipment and, through the order state machine, the order. */
  private async move(em: EntityManager, order: Order, shipment: Shipment, to: ShipmentStatus): Promise<void> {
    assertShipmentTransition(shipment.status as ShipmentStatus, to);
    const now = new Date();
    shipment.status = to;
    if (to === 'shipped') {
      shipment.shippedAt = now;
      await this.orders.transition(em, order, 'shipped');
    } else if (to === 'delivered') {
      shipment.deliveredAt = now;
      await this.orders.transition(em, order, 'delivered');
    } else if (to === 'returned') {
      // The goods came back: the money goes back and the stock is available again.
      await this.orders.transition(em, order, 'refunded');
    }
  }
}
