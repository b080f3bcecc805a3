import { randomBytes } from 'node:crypto';
import type { components } from '../../generated/openapi';
import { toUserDto } from '../../src/modules/accounts/accounts.mapper';
import type { UserRole } from '../../src/modules/accounts/user.entity';
import type { ApiClient, TestApp } from './app';

type User = components['schemas']['User'];
type TokenPair = components['schemas']['TokenPair'];

export interface Actor {
  user: User;
  password: string;
  tokens: TokenPair;
  /** Typed client authenticated as this user. */
  api: ApiClient;
}

let seq = 0;
export function uniqueName(prefix = 'user'): string {
  seq += 1;
  return `${prefix}${seq}_${randomBytes(3).toString('hex')}`;
}

/** The password test users get unless a test gives another. */
export const TEST_PASSWORD = 'a-good-password-123';

/** Registers a customer through the API and returns the created user and its password. */
export async function registerCustomer(app: TestApp, overrides: Partial<components['schemas']['RegisterRequest']> = {}) {
  const username = overrides.username ?? uniqueName();
  const password = overrides.password ?? TEST_PASSWORD;
  const { data, response } = await app.api.POST('/api/auth/register/', {
    body: { username, email: `${username}@example.com`, password, ...overrides },
  });
  if (response.status !== 201 || !data) throw new Error(`registration failed with ${response.status}`);
  return { user: data, password };
}

export async function login(app: TestApp, username: string, password: string): Promise<TokenPair> {
  const { data, response } = await app.api.POST('/api/auth/jwt/login/', { body: { username, password } });
  if (!data) throw new Error(`login failed with ${response.status}`);
  return data;
}

/** A signed-in user of the given role. Customers register through the API; other roles are created by the service, as an admin would. */
export async function actor(app: TestApp, role: UserRole = 'customer'): Promise<Actor> {
  let user: User;
  let password: string;
  if (role === 'customer') {
    ({ user, password } = await registerCustomer(app));
  } else {
    password = TEST_PASSWORD;
    user = await createStaff(app, role);
  }
  const tokens = await login(app, user.username, password);
  return { user, password, tokens, api: app.as(tokens.access) };
}

/** A vendor or admin (password TEST_PASSWORD), created by the service as an admin would: registration only makes customers. */
export async function createStaff(app: TestApp, role: Exclude<UserRole, 'customer'>): Promise<User> {
  const username = uniqueName(role);
  const created = await app.services.accounts.createUser(app.orm.em.fork(), { username, email: `${username}@example.com`, password: TEST_PASSWORD }, role);
  return toUserDto(created);
}

/** Runs raw SQL against the app's database (for assertions only: data is built through the API or services). */
export async function sql<T = Record<string, unknown>>(app: TestApp, query: string, params: unknown[] = []): Promise<T[]> {
  return app.orm.em.getConnection().execute(query, params) as Promise<T[]>;
}
