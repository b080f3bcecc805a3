import { type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * Whether every field selected on `set` (fragments expanded) is one of `names`. A field's
 * @skip/@include can only leave it out; a fragment the document does not define answers false.
 */
function onlyNames(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, names: ReadonlySet<string>, seen: ReadonlySet<string>): boolean {
  return set.selections.every((s) => {
    if (s.kind === Kind.FIELD) return names.has(s.name.value);
    if (s.kind === Kind.INLINE_FRAGMENT) return onlyNames(s.selectionSet, fragments, names, seen);
    const fragment = fragments[s.name.value];
    // A cycle is refused by validation; an unknown fragment cannot be judged.
    if (!fragment || seen.has(s.name.value)) return false;
    return onlyNames(fragment.selectionSet, fragments, names, new Set([...seen, s.name.value]));
  });
}

/**
 * The answers by field node: a field node belongs to one parsed document, which the parser cache
 * shares between requests, so each operation's selections are looked at once, not once per item
 * of a list (a page of products asks the same `category { id }` for each product).
 */
const answers = new WeakMap<FieldNode, WeakMap<ReadonlySet<string>, boolean>>();

/**
 * Whether the field being resolved selects nothing but `names` (and `__typename`, which the
 * executor answers itself): `category { id }` needs only the id its parent row holds.
 */
export function selectsOnly(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, names: ReadonlySet<string>): boolean {
  const [first, ...more] = info.fieldNodes;
  if (!first) return false;
  const known = more.length === 0 ? answers.get(first)?.get(names) : undefined;
  if (known !== undefined) return known;
  const allowed = new Set([...names, '__typename']);
  const answer = info.fieldNodes.every((node) => node.selectionSet !== undefined && onlyNames(node.selectionSet, info.fragments, allowed, new Set()));
  if (more.length === 0) {
    let byNames = answers.get(first);
    if (!byNames) answers.set(first, (byNames = new WeakMap()));
    byNames.set(names, answer);
  }
  return answer;
}
