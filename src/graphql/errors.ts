import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { toProblem } from '../http/problem';

/**
 * Turns a resolver's failure into a GraphQL error through the REST problem mapper
 * (src/http/problem.ts), so both APIs report a failure with the same code: `extensions.code` is the
 * problem's code, `extensions.status` the HTTP status REST answers with, and the problem's members
 * (`errors` for validation, `available` for stock...) follow; REST's Retry-After header is
 * `extensions.retry_after` (seconds: LOGIN_THROTTLED, SERVICE_UNAVAILABLE). Unexpected failures say
 * nothing about internals and are logged.
 */
export function maskError(logger: Logger, exposeInternals: boolean) {
  return (error: unknown): Error => {
    const graphqlError = error instanceof GraphQLError ? error : undefined;
    const original = graphqlError ? graphqlError.originalError : error;
    // GraphQL's own errors (syntax, validation, variables) and the limits' rejections.
    if (graphqlError && (!original || original instanceof GraphQLError)) {
      if (graphqlError.extensions.code) return graphqlError;
      return new GraphQLError(graphqlError.message, {
        nodes: graphqlError.nodes,
        source: graphqlError.source,
        positions: graphqlError.positions,
        path: graphqlError.path,
        extensions: { ...graphqlError.extensions, code: 'GRAPHQL_VALIDATION_FAILED', status: 400 },
      });
    }
    const problem = toProblem(original, exposeInternals);
    if (problem.unexpected) logger.error({ err: original }, 'GraphQL resolver failed');
    const { type: _type, title, status, detail, code, instance: _instance, request_id: _requestId, ...members } = problem.body;
    const retryAfter = problem.headers['Retry-After'];
    return new GraphQLError(detail ?? title, {
      nodes: graphqlError?.nodes,
      source: graphqlError?.source,
      positions: graphqlError?.positions,
      path: graphqlError?.path,
      extensions: { code, status, ...members, ...(retryAfter ? { retry_after: Number(retryAfter) } : {}) },
    });
  };
}
