import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { User } from '../modules/accounts/user.entity';
import type { Services } from '../services';

/** Demo accounts for a fresh local database (SEED_DEMO); documented in the README. */
export const DEMO_USERS = [
  { username: 'admin', password: 'admin-demo-password', role: 'admin' },
  { username: 'vendor', password: 'vendor-demo-password', role: 'vendor' },
  { username: 'customer', password: 'customer-demo-password', role: 'customer' },
] as const;

/** Seeds the demo data once: does nothing when any user exists. */
export async function seedDemo(orm: MikroORM, services: Services, logger: Logger): Promise<void> {
  const em = orm.em.fork();
  if ((await em.count(User, {})) > 0) return;
  for (const demo of DEMO_USERS) {
    await services.accounts.createUser(
      em,
      { username: demo.username, email: `${demo.username}@demo.example`, password: demo.password, first_name: demo.username },
      demo.role,
    );
  }
  logger.info({ users: DEMO_USERS.map(({ username, password, role }) => ({ username, password, role })) }, 'demo data seeded');
}
