import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { ShippingMethod } from './shipping-method.entity';
import { ShippingZone, ShippingZoneArea } from './shipping-zone.entity';

/** An area as stored: a country and a trimmed region ('' = the whole country). */
export interface AreaKey {
  country: string;
  region: string;
}

/** An area served by a zone, as the taken-area check reports it. */
export interface TakenArea extends AreaKey {
  zoneId: number;
  zoneName: string;
}

/** The shipping context's queries. */
export class ShippingRepository {
  /** Zones, oldest first, with their areas. */
  async listZones(em: EntityManager, pick: PagePicker): Promise<Listing<ShippingZone>> {
    const listing = await findListing(em, ShippingZone, {}, { property: 'id', column: 'id', descending: false, key: (z) => z.id }, 'shipping-zones:id', pick);
    await em.populate(listing.slice.items, ['areas']);
    return listing;
  }

  zone(em: EntityManager, id: number, options: { lock?: boolean } = {}): Promise<ShippingZone | null> {
    return em.findOne(ShippingZone, id, options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : { populate: ['areas'] });
  }

  async zoneExists(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(ShippingZone, id)) > 0;
  }

  /** Reloads a zone's areas (after they were written). */
  async loadAreas(em: EntityManager, zone: ShippingZone): Promise<ShippingZone> {
    await em.populate(zone, ['areas'], { refresh: true });
    return zone;
  }

  /** The areas among `areas` that a zone other than `exceptZone` serves (regions compared regardless of case). */
  async takenAreas(em: EntityManager, areas: readonly AreaKey[], exceptZone?: number): Promise<TakenArea[]> {
    if (areas.length === 0) return [];
    const matches = areas.map(() => '(a.country = ? and lower(a.region) = lower(?))').join(' or ');
    const params: unknown[] = areas.flatMap((a) => [a.country, a.region]);
    let sql = `select a.country, a.region, z.id as zone_id, z.name as zone_name
                 from shipping_zone_areas a join shipping_zones z on z.id = a.zone_id
                where (${matches})`;
    if (exceptZone !== undefined) {
      sql += ' and a.zone_id <> ?';
      params.push(exceptZone);
    }
    const rows = await em.execute<{ country: string; region: string; zone_id: number; zone_name: string }[]>(`${sql} order by a.id`, params);
    return rows.map((r) => ({ country: r.country, region: r.region, zoneId: r.zone_id, zoneName: r.zone_name }));
  }

  /** Replaces a zone's areas (the unique index refuses an area another zone serves). */
  async replaceAreas(em: EntityManager, zoneId: number, areas: readonly AreaKey[]): Promise<void> {
    await em.nativeDelete(ShippingZoneArea, { zone: zoneId });
    if (areas.length) await em.insertMany(ShippingZoneArea, areas.map((a) => ({ zone: zoneId, country: a.country, region: a.region })));
  }

  /** Deletes a zone; its areas and methods go with it (the foreign keys cascade). */
  async deleteZone(em: EntityManager, id: number): Promise<void> {
    await em.nativeDelete(ShippingZone, { id });
  }

  /** Methods, oldest first, optionally of one zone. */
  listMethods(em: EntityManager, filter: { zoneId?: number }, pick: PagePicker): Promise<Listing<ShippingMethod>> {
    const where = filter.zoneId === undefined ? {} : { zone: filter.zoneId };
    return findListing(em, ShippingMethod, where, { property: 'id', column: 'id', descending: false, key: (m) => m.id }, 'shipping-methods:id', pick);
  }

  method(em: EntityManager, id: number): Promise<ShippingMethod | null> {
    return em.findOne(ShippingMethod, id);
  }

  async methodExists(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(ShippingMethod, id)) > 0;
  }

  async deleteMethod(em: EntityManager, id: number): Promise<void> {
    await em.nativeDelete(ShippingMethod, { id });
  }
}
