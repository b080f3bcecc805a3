/** Shipping: zones (countries and regions) and their methods with rates. Owns `shipping_zones`, `shipping_zone_areas` and `shipping_methods`. */
import { ShippingMethod } from './shipping-method.entity';
import { ShippingZone, ShippingZoneArea } from './shipping-zone.entity';

/** The entities this context maps. */
export const shippingEntities = [ShippingZone, ShippingZoneArea, ShippingMethod];
export { ShippingOptions, type ShippingPlace, type ShippingQuote } from './shipping-options';
export { shippingHandlers, type ShippingDeps } from './shipping.handlers';
export { ShippingRepository } from './shipping.repository';
export { ShippingService } from './shipping.service';
