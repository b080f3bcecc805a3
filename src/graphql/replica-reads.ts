import type { Request } from 'express';
import { getOperationAST, Kind, type SelectionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { withReplicaReads } from '../db/replicas';
import { callerKey, decideReplica, type ReadRouting } from '../http/read-routing';
import type { GraphQLContext } from './context';

/**
 * GraphQL's side of the replica routing (src/http/read-routing.ts): a query whose every root field
 * reads the public catalog may read from a replica (unless its caller wrote lately), and only such
 * a query runs inside the replica scope; a mutation that writes the catalog (CATALOG_WRITE_FIELDS)
 * records its caller as a writer, once, before it runs. Everything else passes untouched.
 */
export const REPLICA_ROOT_FIELDS: ReadonlySet<string> = new Set(['products', 'product', 'categoryTree', 'reviews', '__typename']);

/** The mutations that change what the catalog's reads show (as CATALOG_WRITE_OPERATIONS does for REST). */
export const CATALOG_WRITE_FIELDS: ReadonlySet<string> = new Set(['postReview']);

/** Only plain fields at the root count (a fragment there could name anything). */
const isField = (s: SelectionNode, fields: ReadonlySet<string>) => s.kind === Kind.FIELD && fields.has(s.name.value);

export function useReplicaReads(routing: ReadRouting): Plugin {
  return {
    async onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      const context = args.contextValue as unknown as GraphQLContext & { req?: Request };
      const req = context.req;
      if (!operation || !req) return;
      const key = () => {
        let viewer: number | undefined;
        try {
          viewer = context.viewer()?.id;
        } catch {
          // A refused token: its resolvers fail; keyed as anonymous meanwhile.
        }
        return callerKey(req, viewer ?? null);
      };
      const roots = operation.selectionSet.selections;
      if (operation.operation === 'mutation') {
        // Conservative: a fragment at the root counts as a write of the catalog.
        if (roots.some((s) => s.kind !== Kind.FIELD || CATALOG_WRITE_FIELDS.has(s.name.value))) await routing.writers.mark(key());
        return;
      }
      if (operation.operation !== 'query' || !roots.every((s) => isField(s, REPLICA_ROOT_FIELDS))) return;
      if (await decideReplica(routing, key())) setExecuteFn((execArgs) => withReplicaReads(() => executeFn(execArgs)));
    },
  };
}
