import { Entity, Enum, OneToOne, type Opt, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { Order } from './order.entity';
import { SHIPMENT_STATUSES, type ShipmentStatus } from './states';

/** The shipment of an order (one per order) with its tracking. */
@Entity({ tableName: 'shipments' })
export class Shipment extends BaseEntity {
  @OneToOne(() => Order, { ref: true, owner: true, deleteRule: 'restrict', unique: 'shipments_order_id_unique' })
  order: Ref<Order>;

  @Property({ type: 'string', length: 60 })
  carrier: string;

  @Property({ type: 'string', length: 100 })
  trackingNumber: string;

  @Enum({ items: () => [...SHIPMENT_STATUSES], default: 'pending' })
  status: ShipmentStatus & Opt = 'pending';

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  shippedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  deliveredAt: Date | null = null;

  constructor(orderId: number, carrier: string, trackingNumber: string) {
    super();
    this.order = ref(Order, orderId);
    this.carrier = carrier;
    this.trackingNumber = trackingNumber;
  }
}
