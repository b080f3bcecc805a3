import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { AccountErrors } from './accounts.errors';
import type { AccountsRepository, UserFilter, UserOrdering } from './accounts.repository';
import type { AuthService } from './auth.service';
import { hashPassword } from './passwords';
import type { RecoveryService } from './recovery.service';
import { User, type UserRole } from './user.entity';

export type RegisterInput = components['schemas']['RegisterRequest'];
export type ProfileInput = components['schemas']['ProfileUpdate'];
export type UserAdminInput = components['schemas']['UserAdminUpdate'];
export type UserListInput = UserFilter & { ordering?: UserOrdering };

/** How other contexts address a user (the mails about their orders). */
export interface AccountContact {
  email: string;
  /** The first name, or the username without one. */
  name: string;
}

/** User accounts: registration, profiles and administration. */
export class AccountsService {
  constructor(
    private readonly users: AccountsRepository,
    private readonly auth: AuthService,
    private readonly recovery: RecoveryService,
  ) {}

  /**
   * Creates an account with the given role; usernames and emails are unique regardless of case.
   * `verified`: the e-mail address counts as verified from the start (an account an operator makes:
   * createsuperuser, the demo and seed accounts), so REQUIRE_VERIFIED_EMAIL never locks it out.
   */
  async createUser(em: EntityManager, input: RegisterInput, role: UserRole = 'customer', verified = false): Promise<User> {
    if (await this.users.usernameTaken(em, input.username)) throw AccountErrors.usernameTaken();
    if (await this.users.emailTaken(em, input.email)) throw AccountErrors.emailTaken();
    const user = new User(input.username, input.email, await hashPassword(input.password));
    user.firstName = input.first_name?.trim() ?? '';
    user.lastName = input.last_name?.trim() ?? '';
    user.phone = input.phone ?? null;
    user.role = role;
    if (verified) user.emailVerifiedAt = new Date();
    em.persist(user);
    await this.flush(em);
    return user;
  }

  /** Whether no account exists yet (a fresh database). */
  async none(em: EntityManager): Promise<boolean> {
    return !(await this.users.any(em));
  }

  /** Public registration: always a customer, mailed a verification token in the same transaction. */
  register(em: EntityManager, input: RegisterInput): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await this.createUser(tx, input, 'customer');
      await this.recovery.mailVerification(tx, user);
      return user;
    });
  }

  /** A user as `viewer` may see it: admins see everyone, others only themselves (else 404). */
  async get(em: EntityManager, viewer: Principal, id: number): Promise<User> {
    if (viewer.role !== 'admin' && viewer.id !== id) throw AccountErrors.userNotFound();
    const user = await this.users.byId(em, id);
    if (!user) throw AccountErrors.userNotFound();
    return user;
  }

  /** Where to write to a user, or null when the account is gone. */
  async contact(em: EntityManager, userId: number): Promise<AccountContact | null> {
    const user = await this.users.byId(em, userId);
    return user && { email: user.email, name: user.firstName || user.username };
  }

  /** Whether the user may sell in the catalog: an active vendor or admin. */
  canSell(em: EntityManager, userId: number): Promise<boolean> {
    return this.users.isActiveSeller(em, userId);
  }

  /** Updates the profile; a new email is unverified and gets a verification mail (in the same transaction). */
  async updateProfile(em: EntityManager, principal: Principal, patch: ProfileInput): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await tx.findOneOrFail(User, principal.id);
      if (patch.email !== undefined && patch.email.toLowerCase() !== user.email.toLowerCase()) {
        if (await this.users.emailTaken(tx, patch.email, user.id)) throw AccountErrors.emailTaken();
        user.email = patch.email;
        await this.recovery.emailChanged(tx, user);
      }
      if (patch.first_name !== undefined) user.firstName = patch.first_name.trim();
      if (patch.last_name !== undefined) user.lastName = patch.last_name.trim();
      if (patch.phone !== undefined) user.phone = patch.phone;
      await this.flush(tx);
      return user;
    });
  }

  /** Users by id (default), join date or username; filtered by role, status, or a username/email prefix. */
  list(em: EntityManager, input: UserListInput, pick: PagePicker): Promise<Listing<User>> {
    const { ordering = 'id', ...filter } = input;
    return this.users.list(em, filter, ordering, pick);
  }

  /** Changes role or active status. The last active admin stays an active admin. */
  async adminUpdate(em: EntityManager, id: number, patch: UserAdminInput): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await this.users.byId(tx, id);
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
      const user = await this.users.byId(tx, id);
      if (!user) throw AccountErrors.userNotFound();
      if (!user.isActive) return;
      await this.assertNotLastAdmin(tx, user);
      user.isActive = false;
      await this.auth.revokeAllSessions(tx, user);
    });
  }

  /** Refuses to remove the last active admin (the admins are locked first). */
  private async assertNotLastAdmin(em: EntityManager, user: User): Promise<void> {
    if (user.role !== 'admin' || !user.isActive) return;
    const admins = await this.users.lockActiveAdmins(em);
    if (admins.filter((a) => a.id !== user.id).length === 0) throw AccountErrors.lastAdmin();
  }

  /** Flushes; a unique violation that slipped past the checks (a concurrent request) becomes the right 409. */
  private flush(em: EntityManager): Promise<void> {
    return refuseViolations(() => em.flush(), {
      unique: (constraint) => {
        em.clear();
        return constraint.includes('username') ? AccountErrors.usernameTaken() : AccountErrors.emailTaken();
      },
    });
  }
}
