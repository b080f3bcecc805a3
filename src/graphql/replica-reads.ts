import type { Request } from 'express';
import { getOperationAST, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { callerKey, decideReplica, type ReadRouting } from '../http/read-routing';
import type { GraphQLContext } from './context';

/**
 * GraphQL's side of the replica routing (src/http/read-routing.ts): a query whose every root field
 * reads the public catalog may read from a replica (unless its caller wrote lately); a mutation
 * records its caller as a writer, before it runs and again once it ran.
 */
export const REPLICA_ROOT_FIELDS: ReadonlySet<string> = new Set(['products', 'product', 'categoryTree', 'reviews', '__typename']);

export function useReplicaReads(routing: ReadRouting): Plugin {
  return {
    async onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      const context = args.contextValue as unknown as GraphQLContext & { req?: Request };
      if (!operation || !context.req) return;
      let viewer: number | undefined;
      try {
        viewer = context.viewer()?.id;
      } catch {
        // A refused token: its resolvers fail; keyed as anonymous meanwhile.
      }
      const key = callerKey(context.req, viewer ?? null);
      if (operation.operation === 'mutation') {
        await routing.writers.mark(key);
        return { onExecuteDone: () => void routing.writers.mark(key) };
      }
      if (operation.operation !== 'query') return;
      // Only plain fields at the root (a fragment there could name anything): conservative.
      const catalog = operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && REPLICA_ROOT_FIELDS.has(s.name.value));
      if (catalog) await decideReplica(routing, key);
    },
  };
}
