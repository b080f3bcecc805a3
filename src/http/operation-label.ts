import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Which operation a request was: what the metrics (src/http/metrics.ts) and the traces
 * (src/tracing.ts) name it by. Read from the request and its answer once handled, so this module
 * imports nothing at run time: the tracing bootstrap loads it before Express and pg are.
 */

/** Where the GraphQL adapter leaves the operation's label (`graphql:<name>`) on the answer. */
export const GRAPHQL_LABEL = Symbol('graphqlOperation');

/** The label src/graphql/server.ts left on the answer, once the document was parsed. */
export function graphqlLabelOf(res: ServerResponse): string | undefined {
  return (res as unknown as Record<symbol, string | undefined>)[GRAPHQL_LABEL];
}

/** The contract's operation a request matched: its operationId and path template (`/api/product/{id}/`). */
export interface ContractOperation {
  id: string;
  route: string;
}

type ValidatedRequest = IncomingMessage & { openapi?: { openApiRoute?: string; schema?: { operationId?: string } } };

/**
 * The operationId, set by express-openapi-validator once it matched the contract's route (no
 * route scan on this hot path); a request refused before (an unknown path, a redirect, 415) has none.
 */
export function operationIdOf(req: IncomingMessage): string | undefined {
  return (req as ValidatedRequest).openapi?.schema?.operationId;
}

/** The operationId and the path template the validator matched, as above. */
export function contractOperationOf(req: IncomingMessage): ContractOperation | undefined {
  const openapi = (req as ValidatedRequest).openapi;
  const id = openapi?.schema?.operationId;
  return id && openapi.openApiRoute ? { id, route: openapi.openApiRoute } : undefined;
}
