import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toUserDto } from './accounts.mapper';
import type { AccountsService } from './accounts.service';
import type { AuthService } from './auth.service';
import type { RecoveryService } from './recovery.service';

/** What the accounts operations need from the composition root. */
export interface AccountsDeps {
  accounts: AccountsService;
  auth: AuthService;
  recovery: RecoveryService;
  pager: Pager;
}

/** The one answer to a reset request, whether or not the email is registered. */
export const PASSWORD_RESET_ACCEPTED = 'If an account uses that email, a password reset message is on its way.';
export const VERIFICATION_MAIL_ACCEPTED = 'A verification message is on its way to your email address.';

export const accountsHandlers = {
  register: async ({ em, body, services, link }) => {
    const user = await services.accounts.register(em, body);
    return { status: 201, body: toUserDto(user), headers: { Location: link('getUser', { id: user.id }) } };
  },

  login: async ({ em, body, headers, services, clientAddress }) => ({ status: 200, body: await services.auth.login(em, body, clientAddress, headers['X-Cart-Token']) }),

  refreshToken: async ({ em, body, services }) => ({ status: 200, body: await services.auth.refresh(em, body.refresh) }),

  logout: async ({ em, body, services }) => {
    await services.auth.logout(em, body.refresh);
    return { status: 204 };
  },

  changePassword: async ({ em, body, user, services }) => ({ status: 200, body: await services.auth.changePassword(em, user, body) }),

  requestPasswordReset: async ({ em, body, services, clientAddress }) => {
    await services.recovery.requestPasswordReset(em, body.email, clientAddress);
    return { status: 202, body: { detail: PASSWORD_RESET_ACCEPTED } };
  },

  confirmPasswordReset: async ({ em, body, services }) => {
    await services.recovery.confirmPasswordReset(em, body.token, body.new_password);
    return { status: 204 };
  },

  verifyEmail: async ({ em, body, services }) => {
    await services.recovery.verifyEmail(em, body.token);
    return { status: 204 };
  },

  resendVerificationEmail: async ({ em, user, services, clientAddress }) => {
    await services.recovery.resendVerification(em, user, clientAddress);
    return { status: 202, body: { detail: VERIFICATION_MAIL_ACCEPTED } };
  },

  getMe: async ({ em, user, services }) => ({ status: 200, body: toUserDto(await services.accounts.get(em, user, user.id)) }),

  updateMe: async ({ em, user, body, services }) => ({ status: 200, body: toUserDto(await services.accounts.updateProfile(em, user, body)) }),

  listUsers: async ({ em, query, services, selfUrl }) => {
    const users = await services.accounts.list(em, { role: query.role, isActive: query.is_active, search: query.search, ordering: query.ordering }, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, users, toUserDto) };
  },

  getUser: async ({ em, user, path, services }) => ({ status: 200, body: toUserDto(await services.accounts.get(em, user, path.id)) }),

  updateUser: async ({ em, path, body, services }) => ({ status: 200, body: toUserDto(await services.accounts.adminUpdate(em, path.id, body)) }),

  deleteUser: async ({ em, user, path, services }) => {
    await services.accounts.deactivate(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<AccountsDeps>>;
