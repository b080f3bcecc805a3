/**
 * The provider states every consumer's pacts may name, in one registry. Each builds its data through
 * the services or the API of the running app (never with SQL), with fresh names so interactions
 * never collide, and hands the values a request needs (tokens, ids) back to the verifier, which
 * injects them where the pact says `fromProviderState('${name}')`.
 * Add a state here when a consumer test names a new one; `verify.pact.test.ts` fails on unknown ones.
 */
import type { VerifierOptions } from '@pact-foundation/pact';
import { toUserDto } from '../../src/modules/accounts/accounts.mapper';
import type { UserRole } from '../../src/modules/accounts/user.entity';
import type { TestApp } from '../../test/support/app';
import { login, uniqueName } from '../../test/support/factories';

type StateHandlers = NonNullable<VerifierOptions['stateHandlers']>;

const PASSWORD = 'a-good-password-123';

/** A user of the given role, made as the app makes them (customers register through the API). */
async function createUser(app: TestApp, role: UserRole) {
  const username = uniqueName(role);
  const details = { username, email: `${username}@example.com`, password: PASSWORD, first_name: 'Ada', last_name: 'Lovelace', phone: '+44 20 7946 0958' };
  if (role === 'customer') {
    const { data, response } = await app.api.POST('/api/auth/register/', { body: details });
    if (!data) throw new Error(`state setup: registration failed with ${response.status}`);
    return data;
  }
  const { phone: _phone, first_name: _f, last_name: _l, ...account } = details;
  return toUserDto(await app.services.accounts.createUser(app.orm.em.fork(), account, role));
}

export function providerStates(app: TestApp): StateHandlers {
  return {
    'no account uses the username "grace"': async () => {
      const { data } = await app.api.POST('/api/auth/jwt/login/', { body: { username: 'grace', password: PASSWORD } });
      if (data) throw new Error('state setup: "grace" already exists');
    },

    'a customer exists': async () => {
      const customer = await createUser(app, 'customer');
      return { username: customer.username, password: PASSWORD, userId: customer.id };
    },

    'a customer is logged in': async () => {
      const customer = await createUser(app, 'customer');
      const tokens = await login(app, customer.username, PASSWORD);
      return { userId: customer.id, accessToken: tokens.access, refreshToken: tokens.refresh };
    },

    'an admin is logged in and customers exist': async () => {
      const admin = await createUser(app, 'admin');
      const customers = [];
      for (let i = 0; i < 3; i++) customers.push(await createUser(app, 'customer'));
      const tokens = await login(app, admin.username, PASSWORD);
      return { adminToken: tokens.access, customerId: customers[0].id };
    },
  };
}
