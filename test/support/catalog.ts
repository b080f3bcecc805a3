import type { components } from '../../generated/openapi';
import type { Actor } from './factories';
import { uniqueName } from './factories';

type Category = components['schemas']['Category'];
type Product = components['schemas']['Product'];
type ProductCreate = components['schemas']['ProductCreate'];
type Variant = components['schemas']['Variant'];

/** A product as its creator sees it: the contract requires at least one variant (a default one when only a price is given). */
export type MadeProduct = Product & { variants: [Variant, ...Variant[]] };

/** Creates a category through the API as an admin. */
export async function makeCategory(admin: Actor, name = uniqueName('cat'), parent?: number): Promise<Category> {
  const { data, response } = await admin.api.POST('/api/category/', { body: { name, parent: parent ?? null } });
  if (!data) throw new Error(`category creation failed with ${response.status}`);
  return data;
}

/** Creates a product through the API as its vendor (or an admin). */
export async function makeProduct(seller: Actor, category: number, overrides: Partial<ProductCreate> = {}): Promise<MadeProduct> {
  const sku = overrides.sku ?? uniqueName('SKU').toUpperCase();
  const { data, response, error } = await seller.api.POST('/api/product/', {
    body: { name: `Product ${sku}`, category, sku, price: '10.00', stock: 5, ...overrides },
  });
  if (!data) throw new Error(`product creation failed with ${response.status}: ${JSON.stringify(error)}`);
  const [variant, ...more] = data.variants;
  if (!variant) throw new Error(`product ${data.id} was created without variants`);
  return { ...data, variants: [variant, ...more] };
}
