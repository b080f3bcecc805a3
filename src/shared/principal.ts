import type { components } from '../../generated/openapi';

export type Role = components['schemas']['UserRole'];

/** Who acts: the authenticated caller, as the adapters (REST, GraphQL) hand it to the services. */
export interface Principal {
  id: number;
  username: string;
  role: Role;
}

/**
 * A shopper without an account, known by the cart token it presented (`X-Cart-Token`): its cart,
 * and the token's SHA-256, which the orders placed from that cart carry.
 */
export interface Guest {
  cartId: number;
  tokenHash: string;
}
