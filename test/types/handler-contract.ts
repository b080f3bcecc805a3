/**
 * Compile-time checks (run by `npm run typecheck`, not by jest): the handler map typed from the
 * contract refuses handlers that answer off-contract. Each @ts-expect-error must stay an error.
 */
import type { Handlers } from '../../src/handlers';
import { handlers } from '../../src/handlers';

const user = {
  id: 1, username: 'a', email: 'a@example.com', email_verified: false, first_name: '', last_name: '', phone: null,
  role: 'customer' as const, is_active: true, date_joined: '', last_login: null, updated_at: '',
};

export const wrongStatus: Handlers['getMe'] = async () =>
  // @ts-expect-error 201 is not a declared answer of getMe
  ({ status: 201, body: user });

export const wrongBody: Handlers['getMe'] = async () =>
  // @ts-expect-error a User without its username does not match the schema
  ({ status: 200, body: { ...user, username: undefined } });

// @ts-expect-error "owner" is not a role
export const wrongEnum: Handlers['getMe'] = async () => ({ status: 200, body: { ...user, role: 'owner' } });

// Extra fields spread into a body escape TypeScript's excess-property check; response validation
// (on in every test) refuses them at run time: see test/integration/system/contract.test.ts.

export const bodyOn204: Handlers['logout'] = async () =>
  // @ts-expect-error logout answers 204 with no body
  ({ status: 204, body: { ok: true } });

export const typedInput: Handlers['getUser'] = async ({ path, user: caller }) => {
  const id: number = path.id; // path parameters are typed (and coerced) from the contract
  const role: string = caller.role; // the caller is present on operations that require auth
  void id;
  void role;
  return { status: 200, body: user };
};

// @ts-expect-error a handler map without every operation does not compile
export const incomplete: Handlers = { getHealth: handlers.getHealth };
