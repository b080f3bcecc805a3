import type { Handlers } from '../../handlers';
import { toUserDto } from './accounts.mapper';

export const accountsHandlers = {
  register: async ({ em, body, services, link }) => {
    const user = await services.accounts.register(em, body);
    return { status: 201, body: toUserDto(user), headers: { Location: link('getUser', { id: user.id }) } };
  },

  login: async ({ em, body, services, req }) => ({
    status: 200,
    body: await services.auth.login(em, body, req.ip ?? 'unknown'),
  }),

  refreshToken: async ({ em, body, services }) => ({ status: 200, body: await services.auth.refresh(em, body.refresh) }),

  logout: async ({ em, body, services }) => {
    await services.auth.logout(em, body.refresh);
    return { status: 204 };
  },

  changePassword: async ({ em, body, user, services }) => ({
    status: 200,
    body: await services.auth.changePassword(em, user, body),
  }),

  getMe: async ({ em, user, services }) => ({ status: 200, body: toUserDto(await services.accounts.get(em, user, user.id)) }),

  updateMe: async ({ em, user, body, services }) => ({
    status: 200,
    body: toUserDto(await services.accounts.updateProfile(em, user, body)),
  }),

  listUsers: async ({ em, query, services, req, url }) => {
    const scope = `users:${query.ordering ?? 'id'}`;
    const page = services.pager.request(query, scope);
    const slice = await services.accounts.list(em, query, page);
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, toUserDto) };
  },

  getUser: async ({ em, user, path, services }) => ({
    status: 200,
    body: toUserDto(await services.accounts.get(em, user, path.id)),
  }),

  updateUser: async ({ em, path, body, services }) => ({
    status: 200,
    body: toUserDto(await services.accounts.adminUpdate(em, path.id, body)),
  }),

  deleteUser: async ({ em, user, path, services }) => {
    await services.accounts.deactivate(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<Handlers>;
