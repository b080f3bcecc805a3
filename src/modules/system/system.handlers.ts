import spec from '../../../generated/openapi.bundle.json';
import { operationIndex } from '../../../generated/operations';
import { databaseReadiness } from '../../db/health';
import { replicaReadings } from '../../db/pools';
import type { HandlerMap } from '../../http/operations';
import { SystemErrors } from './system.errors';

/** What the probes need from the composition root. */
export interface SystemDeps {
  /** `draining` turns true when the process starts shutting down: readiness fails. */
  lifecycle: { draining: boolean };
  /** Readiness waits at most `timeoutMs` for the database (DATABASE_ACQUIRE_TIMEOUT_MS). */
  readiness: { timeoutMs: number };
}

/** Collection paths of the contract (`/api/users/`), keyed by resource name: the API root's index. */
const collections: Record<string, string> = Object.fromEntries(
  Object.values(operationIndex)
    .map((op) => /^\/api\/([a-z_]+)\/$/.exec(op.path))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[0]]),
);

export const systemHandlers = {
  getHealth: async () => ({ status: 200, body: { status: 'ok' } }),

  getReadiness: async ({ em, services }) => {
    if (services.lifecycle.draining) throw SystemErrors.shuttingDown();
    const database = await databaseReadiness(em, services.readiness.timeoutMs);
    if (database === 'unreachable') throw SystemErrors.databaseUnreachable();
    if (database === 'saturated') throw SystemErrors.databaseSaturated();
    // Replicas are reported, never required: one that is not in use only sends its reads to the primary.
    const replicas = replicaReadings(em).map((r) => ({ name: r.name, status: r.status, lag_seconds: r.lagSeconds }));
    return { status: 200, body: { status: 'ok', checks: { database: 'ok', ...(replicas.length ? { replicas } : {}) } } };
  },

  getApiRoot: async ({ url }) => ({
    status: 200,
    body: {
      name: spec.info.title,
      version: spec.info.version,
      resources: Object.fromEntries(Object.entries(collections).map(([name, path]) => [name, url(path)])),
      docs: {
        swagger: url('/swagger/'),
        redoc: url('/redoc/'),
        openapi_json: url('/openapi.json'),
        openapi_yaml: url('/openapi.yaml'),
      },
      graphql: { endpoint: url('/graphql/'), schema: url('/graphql/schema.graphql') },
    },
  }),
} satisfies Partial<HandlerMap<SystemDeps>>;
