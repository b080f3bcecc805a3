import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import { normalizeMoney, toMinor } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import { ShippingMethod, type SubtotalTier, type WeightTier } from './shipping-method.entity';
import { ShippingZone } from './shipping-zone.entity';
import { ShippingErrors } from './shipping.errors';
import type { AreaKey, ShippingRepository } from './shipping.repository';

export type ShippingZoneInput = components['schemas']['ShippingZoneCreate'];
export type ShippingZonePatch = components['schemas']['ShippingZoneUpdate'];
export type ShippingMethodInput = components['schemas']['ShippingMethodCreate'];
export type ShippingMethodPatch = components['schemas']['ShippingMethodUpdate'];
type AreaInput = components['schemas']['ShippingAreaInput'];

const areaName = (a: AreaKey) => (a.region ? `${a.region} (${a.country})` : a.country);

/**
 * Shipping administration: zones (the countries and regions they serve, one zone per area) and their
 * methods with rates. The unique index on areas settles two concurrent claims on one area.
 */
export class ShippingService {
  constructor(private readonly shipping: ShippingRepository) {}

  listZones(em: EntityManager, pick: PagePicker): Promise<Listing<ShippingZone>> {
    return this.shipping.listZones(em, pick);
  }

  async getZone(em: EntityManager, id: number): Promise<ShippingZone> {
    const zone = await this.shipping.zone(em, id);
    if (!zone) throw ShippingErrors.zoneNotFound();
    return zone;
  }

  async createZone(em: EntityManager, input: ShippingZoneInput): Promise<ShippingZone> {
    const areas = distinctAreas(input.areas);
    return this.writeAreas(() =>
      em.transactional(async (tx) => {
        await this.assertFree(tx, areas);
        const zone = new ShippingZone(input.name);
        if (input.shipping_taxable !== undefined) zone.shippingTaxable = input.shipping_taxable;
        tx.persist(zone);
        await tx.flush();
        await this.shipping.replaceAreas(tx, zone.id, areas);
        return this.shipping.loadAreas(tx, zone);
      }),
    );
  }

  /** Changes a zone; `areas` replaces its list, in one transaction. */
  async updateZone(em: EntityManager, id: number, patch: ShippingZonePatch): Promise<ShippingZone> {
    const areas = patch.areas === undefined ? undefined : distinctAreas(patch.areas);
    return this.writeAreas(() =>
      em.transactional(async (tx) => {
        const zone = await this.shipping.zone(tx, id, { lock: true });
        if (!zone) throw ShippingErrors.zoneNotFound();
        if (patch.name !== undefined) zone.name = patch.name;
        if (patch.shipping_taxable !== undefined) zone.shippingTaxable = patch.shipping_taxable;
        if (areas) {
          await this.assertFree(tx, areas, id);
          await this.shipping.replaceAreas(tx, id, areas);
          zone.updatedAt = new Date();
        }
        await tx.flush();
        return this.shipping.loadAreas(tx, zone);
      }),
    );
  }

  /** Deletes a zone with its areas and methods; orders keep their copy of the method they used. */
  async deleteZone(em: EntityManager, id: number): Promise<void> {
    if (!(await this.shipping.zoneExists(em, id))) throw ShippingErrors.zoneNotFound();
    await this.shipping.deleteZone(em, id);
  }

  listMethods(em: EntityManager, filter: { zoneId?: number }, pick: PagePicker): Promise<Listing<ShippingMethod>> {
    return this.shipping.listMethods(em, filter, pick);
  }

  async getMethod(em: EntityManager, id: number): Promise<ShippingMethod> {
    const method = await this.shipping.method(em, id);
    if (!method) throw ShippingErrors.methodNotFound();
    return method;
  }

  async createMethod(em: EntityManager, input: ShippingMethodInput): Promise<ShippingMethod> {
    const method = new ShippingMethod(input.zone, input.name, input.rate_type);
    apply(method, input);
    assertRates(method);
    if (!(await this.shipping.zoneExists(em, input.zone))) throw ShippingErrors.unknownZone(input.zone);
    em.persist(method);
    // The zone may be deleted meanwhile: its foreign key refuses the method.
    await refuseViolations(() => em.flush(), { foreignKey: () => ShippingErrors.unknownZone(input.zone) });
    return method;
  }

  /** Changes a method; the rate rules apply to the fields given together with those kept. */
  async updateMethod(em: EntityManager, id: number, patch: ShippingMethodPatch): Promise<ShippingMethod> {
    const method = await this.getMethod(em, id);
    if (patch.name !== undefined) method.name = patch.name;
    if (patch.rate_type !== undefined) method.rateType = patch.rate_type;
    apply(method, patch);
    assertRates(method);
    await em.flush();
    return method;
  }

  async deleteMethod(em: EntityManager, id: number): Promise<void> {
    if (!(await this.shipping.methodExists(em, id))) throw ShippingErrors.methodNotFound();
    await this.shipping.deleteMethod(em, id);
  }

  /** Refuses areas another zone serves (the unique index refuses them too, when two writes race). */
  private async assertFree(em: EntityManager, areas: readonly AreaKey[], exceptZone?: number): Promise<void> {
    const [taken] = await this.shipping.takenAreas(em, areas, exceptZone);
    if (taken) throw ShippingErrors.areaTaken({ area: areaName(taken), zoneId: taken.zoneId, zoneName: taken.zoneName });
  }

  private writeAreas<T>(write: () => Promise<T>): Promise<T> {
    return refuseViolations(write, { unique: () => ShippingErrors.areaTaken() });
  }
}

/** The areas as stored (regions trimmed); an area given twice (regions regardless of case) is a 400. */
function distinctAreas(input: readonly AreaInput[]): AreaKey[] {
  const seen = new Set<string>();
  return input.map((a) => {
    const area = { country: a.country, region: (a.region ?? '').trim() };
    const key = `${area.country}\u0000${area.region.toLowerCase()}`;
    if (seen.has(key)) throw ShippingErrors.duplicateArea(areaName(area));
    seen.add(key);
    return area;
  });
}

function apply(m: ShippingMethod, f: ShippingMethodPatch): void {
  if (f.carrier !== undefined) m.carrier = f.carrier;
  if (f.delivery_days_min !== undefined) m.deliveryDaysMin = f.delivery_days_min;
  if (f.delivery_days_max !== undefined) m.deliveryDaysMax = f.delivery_days_max;
  if (f.flat_price !== undefined) m.flatPrice = f.flat_price === null ? null : normalizeMoney(f.flat_price);
  if (f.subtotal_tiers !== undefined) m.subtotalTiers = f.subtotal_tiers.map((t): SubtotalTier => ({ min_subtotal: normalizeMoney(t.min_subtotal), price: normalizeMoney(t.price) }));
  if (f.weight_tiers !== undefined) m.weightTiers = f.weight_tiers.map((t): WeightTier => ({ min_weight_grams: t.min_weight_grams, price: normalizeMoney(t.price) }));
  if (f.free_above !== undefined) m.freeAbove = f.free_above === null ? null : normalizeMoney(f.free_above);
  if (f.is_active !== undefined) m.isActive = f.is_active;
}

/** The rate fields must match the rate type; tiers start at 0 and strictly increase. */
function assertRates(m: ShippingMethod): void {
  const invalid = ShippingErrors.invalid;
  if (m.rateType === 'flat') {
    if (m.flatPrice === null) throw invalid('body.flat_price', 'A flat method needs a flat_price.');
  } else if (m.flatPrice !== null) {
    throw invalid('body.flat_price', `A ${m.rateType} method has no flat_price.`);
  }
  if (m.rateType !== 'subtotal' && m.subtotalTiers.length) throw invalid('body.subtotal_tiers', `A ${m.rateType} method has no subtotal tiers.`);
  if (m.rateType !== 'weight' && m.weightTiers.length) throw invalid('body.weight_tiers', `A ${m.rateType} method has no weight tiers.`);
  if (m.rateType === 'subtotal') assertTiers('body.subtotal_tiers', 'min_subtotal', m.subtotalTiers.map((t) => toMinor(t.min_subtotal)));
  if (m.rateType === 'weight') assertTiers('body.weight_tiers', 'min_weight_grams', m.weightTiers.map((t) => t.min_weight_grams));
  if (m.deliveryDaysMin !== null && m.deliveryDaysMax !== null && m.deliveryDaysMin > m.deliveryDaysMax) {
    throw invalid('body.delivery_days_max', 'delivery_days_max must be at least delivery_days_min.');
  }
}

function assertTiers(field: string, key: string, mins: number[]): void {
  if (mins.length === 0) throw ShippingErrors.invalid(field, 'A tiered method needs at least one tier.');
  if (mins[0] !== 0) throw ShippingErrors.invalid(field, `The first tier's ${key} must be 0.`);
  if (mins.some((min, i) => i > 0 && min <= (mins[i - 1] ?? -1))) throw ShippingErrors.invalid(field, `The tiers' ${key} must strictly increase.`);
}
