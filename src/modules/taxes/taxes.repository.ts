import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import { keyset, toSlice } from '../../db/keyset';
import type { KeyValues } from '../../shared/cursor';
import type { Listing, PagePicker } from '../../shared/paging';
import type { TaxClass } from '../../shared/tax-classes';
import { TaxRate } from './tax-rate.entity';

/** The tax rates' queries. */
export class TaxesRepository {
  /**
   * Rates by country, region (regardless of case), class and id, optionally of one country: the
   * order of the place-and-class unique index. Keyset pages compare the four columns at once.
   */
  async list(em: EntityManager, filter: { country?: string }, pick: PagePicker): Promise<Listing<TaxRate>> {
    const scope = 'tax-rates:place';
    const { page } = pick([scope]);
    const keyOf = (r: TaxRate): KeyValues => [r.country, r.region, r.taxClass, r.id];
    const ks = keyset(page, false, () => '?');
    const orderBy = { country: ks.dir, [raw('lower(region)')]: ks.dir, taxClass: ks.dir, id: ks.dir } as never;
    const where: FilterQuery<TaxRate> = filter.country === undefined ? {} : { country: filter.country };
    if (page.kind === 'page') {
      const [items, count] = await em.findAndCount(TaxRate, where, { orderBy, limit: ks.limit, offset: ks.offset });
      return { slice: toSlice(items, page, keyOf, false, count), scope, keyOf };
    }
    const conditions: FilterQuery<TaxRate>[] = [where];
    if (ks.values) {
      const op = ks.dir === 'asc' ? '>' : '<';
      const after = (alias: string) => `(${alias}.country, lower(${alias}.region), ${alias}.tax_class, ${alias}.id) ${op} (?, lower(?), ?, ?::int)`;
      conditions.push({ [raw(after, ks.values)]: [] });
    }
    const rows = await em.find(TaxRate, { $and: conditions }, { orderBy, limit: ks.limit });
    return { slice: toSlice(rows, page, keyOf, ks.reversed), scope, keyOf };
  }

  byId(em: EntityManager, id: number): Promise<TaxRate | null> {
    return em.findOne(TaxRate, id);
  }

  async exists(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(TaxRate, id)) > 0;
  }

  /** The id of the rate for this place and class (region regardless of case), if any. */
  async idOf(em: EntityManager, place: { country: string; region: string; taxClass: TaxClass }): Promise<number | undefined> {
    const [row] = await em.execute<{ id: number }[]>('select id from tax_rates where country = ? and lower(region) = lower(?) and tax_class = ?', [
      place.country,
      place.region,
      place.taxClass,
    ]);
    return row?.id;
  }

  async delete(em: EntityManager, id: number): Promise<void> {
    await em.nativeDelete(TaxRate, { id });
  }
}
