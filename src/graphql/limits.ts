import {
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  isCompositeType,
  isObjectType,
  isInterfaceType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type GraphQLCompositeType,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../http/pagination';

/** The limits every operation is checked against before it runs. */
export interface QueryLimits {
  /** Nesting of fields (`products { edges { node { id } } }` is 4). */
  maxDepth: number;
  /** Aliases in the whole document. */
  maxAliases: number;
  /** Estimated work: 1 per object or list field, multiplied by the page size of the lists around it. */
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 8, maxAliases: 12, maxCost: 1000 };

/** The page size assumed for a list argument given by a variable that is not known (the largest allowed). */
const VARIABLE_PAGE_SIZE = MAX_PAGE_SIZE;

/** The operation's variables when known (the cost then uses their values). */
type Variables = Record<string, unknown> | null | undefined;

function rejection(code: string, message: string, limit: number, actual: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, status: 400, limit, actual } });
}

const isIntrospection = (node: FieldNode) => node.name.value.startsWith('__');

/** The fragments of the document by name. */
function fragmentsIn(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) map.set(def.name.value, def);
  return map;
}

const fragmentsOf = (context: ValidationContext) => fragmentsIn(context.getDocument());

/** The fields of a selection set, fragments expanded (a fragment cycle is another rule's error). */
function fieldsOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string> = new Set()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) fields.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) fields.push(...fieldsOf(s.selectionSet, fragments, seen));
    else if (!seen.has(s.name.value)) {
      const fragment = fragments.get(s.name.value);
      if (fragment) fields.push(...fieldsOf(fragment.selectionSet, fragments, new Set([...seen, s.name.value])));
    }
  }
  return fields;
}

function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, level: number, max: number): number {
  if (!set) return level - 1;
  // Deeper than allowed already: no need to look further.
  if (level > max) return level;
  let deepest = level - 1;
  for (const field of fieldsOf(set, fragments)) {
    if (isIntrospection(field)) continue;
    deepest = Math.max(deepest, field.selectionSet ? depthOf(field.selectionSet, fragments, level + 1, max) : level);
  }
  return deepest;
}

/** How many items a list field yields at most: its first/last argument, else that argument's default, else the default page. */
function pageSizeOf(node: FieldNode, def: GraphQLField<unknown, unknown> | undefined, variables: Variables): number {
  for (const name of ['first', 'last']) {
    const arg = node.arguments?.find((a) => a.name.value === name);
    if (arg?.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
    if (arg?.value.kind === Kind.VARIABLE) {
      const value = variables?.[arg.value.name.value];
      if (value === null || value === undefined) continue;
      return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.floor(value)) : VARIABLE_PAGE_SIZE;
    }
  }
  const paged = def?.args.find((a) => a.name === 'first' || a.name === 'last');
  if (paged) return typeof paged.defaultValue === 'number' ? paged.defaultValue : DEFAULT_PAGE_SIZE;
  return 1;
}

function costOf(
  schema: GraphQLSchema,
  type: GraphQLCompositeType,
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  budget: number,
  variables: Variables,
  depth = 0,
): number {
  if (depth > 50) return budget + 1;
  let cost = 0;
  for (const field of fieldsOf(set, fragments)) {
    if (isIntrospection(field) || !field.selectionSet) continue;
    const def = isObjectType(type) || isInterfaceType(type) ? type.getFields()[field.name.value] : undefined;
    const child = def ? getNamedType(def.type) : undefined;
    const inner = child && isCompositeType(child) ? costOf(schema, child, field.selectionSet, fragments, budget, variables, depth + 1) : 0;
    cost += 1 + pageSizeOf(field, def, variables) * inner;
    if (cost > budget) return cost;
  }
  return cost;
}

/** Rejects operations nested deeper than `max` (introspection fields are not counted). */
function maxDepthRule(max: number): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(op) {
      const depth = depthOf(op.selectionSet, fragmentsOf(context), 1, max);
      if (depth > max) context.reportError(rejection('QUERY_TOO_DEEP', `The query is nested deeper than ${max} levels.`, max, depth));
    },
  });
}

/** Rejects documents with more than `max` aliases. */
function maxAliasesRule(max: number): ValidationRule {
  return (context): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
      },
      Document: {
        leave() {
          if (aliases > max) context.reportError(rejection('TOO_MANY_ALIASES', `The query uses ${aliases} aliases; at most ${max} are allowed.`, max, aliases));
        },
      },
    };
  };
}

/** The operation's refusal when its estimated cost exceeds `max`, else undefined. */
function costRefusal(schema: GraphQLSchema, op: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, max: number, variables: Variables) {
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return undefined;
  const cost = costOf(schema, root, op.selectionSet, fragments, max, variables);
  return cost > max ? rejection('QUERY_TOO_COMPLEX', `The query's estimated cost exceeds ${max}; ask for fewer or smaller lists.`, max, cost) : undefined;
}

/** Rejects operations whose estimated cost exceeds `max` (page sizes from `variables` when given). */
function maxCostRule(max: number, variables?: Variables): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(op) {
      const refusal = costRefusal(context.getSchema(), op, fragmentsOf(context), max, variables);
      if (refusal) context.reportError(refusal);
    },
  });
}

/**
 * The limits that depend on the document alone (depth, aliases), as validation rules: their
 * answer can be kept with the document's validation (src/graphql/server.ts).
 */
export function documentLimitRules(limits: QueryLimits = DEFAULT_LIMITS): ValidationRule[] {
  return [maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases)];
}

/**
 * The cost limit, which depends on the request's variables as well (list sizes given by
 * variables count at their values): checked for each request, outside the cached validation. The
 * same refusal as the cost rule of `limitRules`, one per operation over the limit.
 */
export function costRefusals(schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits = DEFAULT_LIMITS, variables?: Variables): GraphQLError[] {
  const fragments = fragmentsIn(document);
  return document.definitions.flatMap((def) => {
    const refusal = def.kind === Kind.OPERATION_DEFINITION ? costRefusal(schema, def, fragments, limits.maxCost, variables) : undefined;
    return refusal ? [refusal] : [];
  });
}

/** Every limit as validation rules, the cost at `variables`. */
export function limitRules(limits: QueryLimits = DEFAULT_LIMITS, variables?: Variables): ValidationRule[] {
  return [...documentLimitRules(limits), maxCostRule(limits.maxCost, variables)];
}
