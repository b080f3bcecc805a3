import type { TestApp } from './app';
import { firstOf } from './narrow';

export interface GraphQLResponse<D = any> {
  status: number;
  data?: D | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** Posts an operation to the app's /graphql/ endpoint over HTTP, optionally with a bearer token (and other headers: a guest's X-Cart-Token). */
export async function gql<D = any>(
  app: TestApp,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<D>> {
  const res = await fetch(`${app.baseUrl}/graphql/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: D | null; errors?: GraphQLResponse['errors'] };
  return { status: res.status, ...body };
}

/** The codes of a response's errors, in order. */
export const codes = (r: GraphQLResponse) => (r.errors ?? []).map((e) => e.extensions?.code);

/** A response's first error; throws when it has none. */
export const firstError = (r: GraphQLResponse) => firstOf(r.errors ?? []);
