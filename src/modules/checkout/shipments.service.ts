import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { failpoint } from '../../shared/failpoints';
import { CheckoutErrors } from './checkout.errors';
import type { CheckoutRepository, OrderViewer } from './checkout.repository';
import type { Order } from './order.entity';
import type { OrdersService } from './orders.service';
import { Shipment } from './shipment.entity';
import { assertShipmentTransition, assertTransition, type ShipmentStatus } from './states';

export type ShipmentInput = components['schemas']['ShipmentCreate'];
export type ShipmentPatch = components['schemas']['ShipmentUpdate'];

/**
 * Shipments drive the order: shipped → shipped, delivered → delivered, returned → refunded. The
 * refund of a return is a job enqueued in the transaction that records the return (the order's
 * `order.refund_due`), so it happens even if the process dies right after the commit.
 */
export class ShipmentsService {
  constructor(
    private readonly checkout: CheckoutRepository,
    private readonly orders: OrdersService,
  ) {}

  /** The shipment of the viewer's order (admins: any); 404 before one exists or for others' orders. */
  async get(em: EntityManager, viewer: OrderViewer, orderId: number): Promise<Shipment> {
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
    let returned = false;
    const shipment = await em.transactional(async (tx) => {
      const order = await this.checkout.order(tx, orderId, { lock: true });
      const shipment = order && (await this.checkout.shipmentOf(tx, orderId, { lock: true }));
      if (!order || !shipment) throw CheckoutErrors.shipmentNotFound();
      if (patch.carrier !== undefined) shipment.carrier = patch.carrier;
      if (patch.tracking_number !== undefined) shipment.trackingNumber = patch.tracking_number;
      if (patch.status !== undefined && patch.status !== shipment.status) {
        await this.move(tx, order, shipment, patch.status);
        returned = patch.status === 'returned';
      }
      await tx.flush();
      return shipment;
    });
    if (returned) failpoint('shipment.after-return');
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
      // The goods came back: the stock is available again, and the money goes back (a job).
      await this.orders.transition(em, order, 'refunded');
    }
  }
}
