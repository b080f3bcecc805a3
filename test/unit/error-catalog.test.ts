import { AccountErrors } from '../../src/modules/accounts/accounts.errors';
import { AddressErrors } from '../../src/modules/addresses/addresses.errors';
import { CartErrors } from '../../src/modules/cart/cart.errors';
import { CatalogErrors } from '../../src/modules/catalog/catalog.errors';
import { CheckoutErrors } from '../../src/modules/checkout/checkout.errors';
import { CouponErrors } from '../../src/modules/discounts/discounts.errors';
import { ReviewErrors } from '../../src/modules/reviews/reviews.errors';
import { SystemErrors } from '../../src/modules/system/system.errors';
import { WishlistErrors } from '../../src/modules/wishlist/wishlist.errors';
import { DATABASE_BUSY, DATABASE_UNREACHABLE } from '../../src/db/faults';
import { declaredCodes, toProblem } from '../../src/http/problem';
import { refusal } from '../../src/http/auth';
import { DomainError } from '../../src/shared/errors';

/** Every code the contract declares, on any operation and status. */
const declared = new Set([...declaredCodes.values()].flatMap((statuses) => [...statuses.values()].flat()));

/** Calls a catalog factory with arguments of the shapes the catalogs take (ids, codes, money, dates). */
function codeOf(factory: (...args: never[]) => DomainError): string {
  const argumentSets: unknown[][] = [[], ['WELCOME10', new Date(0)], ['WELCOME10', '50.00'], [41, 2], ['pending', 'paid', 'order'], [[1]]];
  for (const args of argumentSets) {
    try {
      const err = (factory as (...a: unknown[]) => unknown)(...args);
      if (err instanceof DomainError) return err.code;
    } catch {
      // Not this shape of arguments; try the next.
    }
  }
  throw new Error(`could not build the error of ${factory.name}`);
}

const catalogs = { AccountErrors, AddressErrors, CartErrors, CatalogErrors, CheckoutErrors, CouponErrors, ReviewErrors, SystemErrors, WishlistErrors };

describe('the error catalogs and the contract', () => {
  const entries = Object.entries(catalogs).flatMap(([catalog, factories]) =>
    Object.entries(factories as Record<string, (...args: never[]) => DomainError>).map(([name, factory]) => [`${catalog}.${name}`, factory] as const),
  );

  it.each(entries)('%s: its code is declared on at least one operation', (_name, factory) => {
    expect(declared).toContain(codeOf(factory));
  });

  it('declares the codes the HTTP layer and the database faults raise', () => {
    const raised = [
      DATABASE_BUSY.code,
      DATABASE_UNREACHABLE.code,
      refusal({ name: 'TokenExpiredError' }).code,
      refusal({ message: 'jwt malformed' }).code,
      toProblem({ status: 401, errors: [] }).body.code,
      toProblem({ type: 'entity.parse.failed', status: 400 }).body.code,
      toProblem({ type: 'entity.too.large', status: 413 }).body.code,
      toProblem({ status: 415, errors: [] }).body.code,
      toProblem({ status: 400, errors: [] }).body.code,
      toProblem({ status: 403, errors: [] }).body.code,
      toProblem({ status: 404, errors: [] }).body.code,
      toProblem(new Error('boom')).body.code,
    ];
    for (const code of raised) expect(declared).toContain(code);
  });

  it('declares no code that nothing raises (UNAUTHORIZED, TOO_MANY_REQUESTS, CONFLICT, UNPROCESSABLE are gone)', () => {
    for (const code of ['UNAUTHORIZED', 'TOO_MANY_REQUESTS', 'CONFLICT', 'UNPROCESSABLE', 'CONSTRAINT_VIOLATION', 'UNKNOWN_ORDER']) expect(declared).not.toContain(code);
  });
});
