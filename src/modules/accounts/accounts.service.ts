import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { constraintOf } from '../../db/errors';
import { findSlice, type KeysetOrder } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import type { PageRequest, Slice } from '../../shared/paging';
import { AccountErrors } from './accounts.errors';
import type { AuthService } from './auth.service';
import { hashPassword } from './passwords';
import { User, type UserRole } from './user.entity';

type RegisterRequest = components['schemas']['RegisterRequest'];
type ProfileUpdate = components['schemas']['ProfileUpdate'];
type UserAdminUpdate = components['schemas']['UserAdminUpdate'];
export type UserListQuery = NonNullable<operations['listUsers']['parameters']['query']>;
export type UserOrdering = NonNullable<UserListQuery['ordering']>;

const ORDERS: Record<string, Omit<KeysetOrder<User>, 'descending'>> = {
  id: { property: 'id', column: 'id', key: (u) => u.id },
  date_joined: { property: 'createdAt', column: 'created_at', key: (u) => u.createdAt.toISOString() },
  username: { property: 'username', column: 'username', key: (u) => u.username },
};

const lower = (column: string, value: string) => ({ [raw(`lower(${column})`)]: value.toLowerCase() });

/** User accounts: registration, profiles and administration. */
export class AccountsService {
  constructor(private readonly auth: AuthService) {}

  /** Creates an account with the given role; usernames and emails are unique regardless of case. */
  async createUser(em: EntityManager, input: RegisterRequest, role: UserRole = 'customer'): Promise<User> {
    await this.assertAvailable(em, input.username, input.email);
    const user = new User(input.username, input.email, await hashPassword(input.password));
    user.firstName = input.first_name?.trim() ?? '';
    user.lastName = input.last_name?.trim() ?? '';
    user.phone = input.phone ?? null;
    user.role = role;
    em.persist(user);
    await this.flushUnique(em);
    return user;
  }

  /** Public registration: always a customer. */
  register(em: EntityManager, input: RegisterRequest): Promise<User> {
    return this.createUser(em, input, 'customer');
  }

  /** A user as `viewer` may see it: admins see everyone, others only themselves (else 404). */
  async get(em: EntityManager, viewer: Principal, id: number): Promise<User> {
    if (viewer.role !== 'admin' && viewer.id !== id) throw AccountErrors.userNotFound();
    const user = await em.findOne(User, id);
    if (!user) throw AccountErrors.userNotFound();
    return user;
  }

  async updateProfile(em: EntityManager, principal: Principal, patch: ProfileUpdate): Promise<User> {
    const user = await em.findOneOrFail(User, principal.id);
    if (patch.email !== undefined && patch.email.toLowerCase() !== user.email.toLowerCase()) {
      if (await em.count(User, { ...lower('email', patch.email), id: { $ne: user.id } })) throw AccountErrors.emailTaken();
      user.email = patch.email;
    }
    if (patch.first_name !== undefined) user.firstName = patch.first_name.trim();
    if (patch.last_name !== undefined) user.lastName = patch.last_name.trim();
    if (patch.phone !== undefined) user.phone = patch.phone;
    await this.flushUnique(em);
    return user;
  }

  async list(em: EntityManager, query: UserListQuery, page: PageRequest): Promise<Slice<User>> {
    const ordering: UserOrdering = query.ordering ?? 'id';
    const descending = ordering.startsWith('-');
    const order = { ...ORDERS[ordering.replace(/^-/, '')], descending };
    const where: FilterQuery<User>[] = [];
    if (query.role) where.push({ role: query.role });
    if (query.is_active !== undefined) where.push({ isActive: query.is_active });
    if (query.search) {
      const prefix = `${query.search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
      where.push({ $or: [{ [raw('lower(username)')]: { $like: prefix } }, { [raw('lower(email)')]: { $like: prefix } }] });
    }
    return findSlice(em, User, where.length ? { $and: where } : {}, order, page);
  }

  /** Changes role or active status. The last active admin stays an active admin. */
  async adminUpdate(em: EntityManager, id: number, patch: UserAdminUpdate): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await tx.findOne(User, id);
      if (!user) throw AccountErrors.userNotFound();
      const losesAdmin = (patch.role !== undefined && patch.role !== 'admin') || patch.is_active === false;
      if (losesAdmin) await this.assertNotLastAdmin(tx, user);
      if (patch.role !== undefined) user.role = patch.role;
      if (patch.is_active === false && user.isActive) {
        user.isActive = false;
        await this.auth.revokeAllSessions(tx, user);
      } else if (patch.is_active === true) {
        user.isActive = true;
      }
      return user;
    });
  }

  /** Deactivates an account (its owner or an admin); keeps the record and its history. */
  async deactivate(em: EntityManager, viewer: Principal, id: number): Promise<void> {
    if (viewer.role !== 'admin' && viewer.id !== id) throw AccountErrors.userNotFound();
    await em.transactional(async (tx) => {
      const user = await tx.findOne(User, id);
      if (!user) throw AccountErrors.userNotFound();
      if (!user.isActive) return;
      await this.assertNotLastAdmin(tx, user);
      user.isActive = false;
      await this.auth.revokeAllSessions(tx, user);
    });
  }

  /** Locks the active admins (so two admins cannot demote each other at once) and refuses to remove the last. */
  private async assertNotLastAdmin(em: EntityManager, user: User): Promise<void> {
    if (user.role !== 'admin' || !user.isActive) return;
    const admins = await em.find(User, { role: 'admin', isActive: true }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
    if (admins.filter((a) => a.id !== user.id).length === 0) throw AccountErrors.lastAdmin();
  }

  private async assertAvailable(em: EntityManager, username: string, email: string): Promise<void> {
    if (await em.count(User, lower('username', username))) throw AccountErrors.usernameTaken();
    if (await em.count(User, lower('email', email))) throw AccountErrors.emailTaken();
  }

  /** Flushes; a unique violation that slipped past the checks (a concurrent request) becomes the right 409. */
  private async flushUnique(em: EntityManager): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        em.clear();
        throw constraintOf(err).includes('username') ? AccountErrors.usernameTaken() : AccountErrors.emailTaken();
      }
      throw err;
    }
  }
}
