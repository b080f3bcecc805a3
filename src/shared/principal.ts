import type { components } from '../../generated/openapi';

export type Role = components['schemas']['UserRole'];

/** Who acts: the authenticated caller, as the adapters (REST, GraphQL) hand it to the services. */
export interface Principal {
  id: number;
  username: string;
  role: Role;
}
