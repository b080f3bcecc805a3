import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import type { Principal } from '../../shared/principal';
import { CheckoutErrors } from './checkout.errors';
import type { CheckoutRepository } from './checkout.repository';
import type { Order } from './order.entity';
import type { OrdersService } from './orders.service';
import type { PaymentsService } from './payments.service';
import { Shipment } from './shipment.entity';
import { assertShipmentTransition, assertTransition, type ShipmentStatus } from './states';

export type ShipmentInput = components['schemas']['ShipmentCreate'];
export type ShipmentPatch = components['schemas']['ShipmentUpdate'];

/** Shipments drive the order: shipped → shipped, delivered → delivered, returned → refunded. */
export class ShipmentsService {
  constructor(
    private readonly checkout: CheckoutRepository,
    private readonly orders: OrdersService,
    private readonly payments: PaymentsService,
  ) {}

  /** The shipment of the viewer's order (admins: any); 404 before one exists or for others' orders. */
  async get(em: EntityManager, viewer: Principal, orderId: number): Promise<Shipment> {
    const order = await this.orders.findVisible(em, viewer, orderId);
    const shipment = order && (await this.checkout.shipmentOf(em, orderId));
    if (!shipment) throw CheckoutErrors.shipmentNotFound();
    return shipment;
  }

  async create(em: EntityManager, orderId: number, input: ShipmentInput): Promise<Shipment> {
    return em.transactional(async (tx) => {
      const order = await this.checkout.order(tx, orderId, { lock: true });
      if (!order) throw CheckoutErrors.shipmentNotFound();
      if (await this.checkout.hasShipment(tx, orderId)) throw CheckoutErrors.shipmentExists();
      // Only a paid order ships.
      assertTransition(order.status, 'shipped');
      const shipment = new Shipment(orderId, input.carrier, input.tracking_number);
      tx.persist(shipment);
      if ((input.status ?? 'pending') === 'shipped') await this.move(tx, order, shipment, 'shipped');
      await tx.flush();
      return shipment;
    });
  }

  async update(em: EntityManager, orderId: number, patch: ShipmentPatch): Promise<Shipment> {
    let refund = false;
    const shipment = await em.transactional(async (tx) => {
      const order = await this.checkout.order(tx, orderId, { lock: true });
      const shipment = order && (await this.checkout.shipmentOf(tx, orderId, { lock: true }));
      if (!order || !shipment) throw CheckoutErrors.shipmentNotFound();
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
    assertShipmentTransition(shipment.status, to);
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
