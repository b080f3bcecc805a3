/**
 * The app's MikroORM options: every context's entities over `db/orm-options.ts`. Used by the app,
 * the CLI, the tests and the scripts; the default export is the MikroORM CLI's configuration
 * (`npm run mikro-orm -- migration:create`).
 */
import type { Options } from '@mikro-orm/core';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { ormOptions as optionsFor, type OrmSettings } from './db/orm-options';
import { accountsEntities } from './modules/accounts';
import { addressesEntities } from './modules/addresses';
import { cartEntities } from './modules/cart';
import { catalogEntities } from './modules/catalog';
import { checkoutEntities } from './modules/checkout';
import { discountsEntities } from './modules/discounts';
import { mediaEntities } from './modules/media';
import { reviewsEntities } from './modules/reviews';
import { shippingEntities } from './modules/shipping';
import { taxesEntities } from './modules/taxes';
import { webhooksEntities } from './modules/webhooks';
import { wishlistEntities } from './modules/wishlist';

/** Every entity of every context: the ORM is configured with exactly this list. */
export const entities = [
  ...accountsEntities,
  ...catalogEntities,
  ...addressesEntities,
  ...cartEntities,
  ...wishlistEntities,
  ...reviewsEntities,
  ...discountsEntities,
  ...checkoutEntities,
  ...shippingEntities,
  ...taxesEntities,
  ...mediaEntities,
  ...webhooksEntities,
];

/** MikroORM options for a database URL, mapping the app's entities. */
export function ormOptions(settings: Omit<OrmSettings, 'entities'>): Options<PostgreSqlDriver> {
  return optionsFor({ ...settings, entities });
}

export default ormOptions({ clientUrl: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', snapshot: true });
