import { type ASTNode, GraphQLError, Kind, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type InputIssue, nulIssues, NUL_MESSAGE } from '../http/input-guard';

/**
 * REST's edge rule for U+0000 (src/http/input-guard.ts), applied to GraphQL before anything runs:
 * in variables (`variables.input.name`) and in string literals of arguments
 * (`products.filter.search`). The answer is GraphQL's usual error, with the REST problem's
 * `extensions` (`code: VALIDATION_ERROR`, `status: 400`, `errors` naming each field).
 */
function refusal(issues: InputIssue[]): GraphQLError {
  return new GraphQLError('The request does not match the API contract.', {
    extensions: { code: 'VALIDATION_ERROR', status: 400, errors: issues.slice(0, 100) },
  });
}

type Step = ASTNode | readonly ASTNode[];

/**
 * Where a literal sits: the field it is an argument of (alias or name), the argument, its object
 * fields and list positions (`products.filter.brand[1]`), or the variable whose default it is.
 */
function literalPath(ancestors: readonly Step[], parent: Step | undefined, node: ASTNode): string {
  const parts: string[] = [];
  const chain: Step[] = [...ancestors, ...(parent ? [parent] : []), node];
  chain.forEach((a, i) => {
    if (Array.isArray(a)) {
      const next = chain[i + 1];
      const position = next ? (a as readonly ASTNode[]).indexOf(next as ASTNode) : -1;
      // Lists of values (not of arguments, fields or selections) show the position.
      if (position >= 0 && (chain[i - 1] as ASTNode | undefined)?.kind === Kind.LIST) parts.push(`[${position}]`);
      return;
    }
    const n = a as ASTNode;
    if (n.kind === Kind.FIELD) parts.splice(0, parts.length, (n.alias ?? n.name).value);
    else if (n.kind === Kind.VARIABLE_DEFINITION) parts.splice(0, parts.length, `variables.${n.variable.name.value}`);
    else if (n.kind === Kind.ARGUMENT || n.kind === Kind.OBJECT_FIELD) parts.push(`.${n.name.value}`);
  });
  return parts.join('').replace(/^\./, '');
}

/** A validation rule: a string literal holding U+0000 anywhere in the document is refused. */
export const noNulLiterals: ValidationRule = (context) => {
  const issues: InputIssue[] = [];
  return {
    StringValue(node, _key, parent, _path, ancestors) {
      if (node.value.includes('\u0000')) issues.push({ field: literalPath(ancestors, parent, node), message: NUL_MESSAGE });
    },
    Document: {
      leave() {
        if (issues.length) context.reportError(refusal(issues));
      },
    },
  };
};

/** The plugin: variables are checked as REST bodies are, literals by the validation rule. */
export function useNoNulCharacters(): Plugin {
  return {
    onValidate({ addValidationRule, context, setResult }) {
      addValidationRule(noNulLiterals);
      const params = (context as { params?: { variables?: Record<string, unknown> | null; operationName?: string | null } }).params;
      const issues = nulIssues(params?.variables ?? {}, 'variables');
      if (params?.operationName?.includes('\u0000')) issues.push({ field: 'operationName', message: NUL_MESSAGE });
      if (issues.length) setResult([refusal(issues)]);
    },
  };
}
