import type { ErrorRequestHandler } from 'express';

interface Schema {
  $ref?: string;
  pattern?: string;
  description?: string;
  examples?: unknown[];
  type?: string;
}
interface Parameter {
  $ref?: string;
  name?: string;
  in?: string;
  schema?: Schema;
}
interface Spec {
  paths?: Record<string, Record<string, { parameters?: Parameter[] }>>;
  components?: { parameters?: Record<string, Parameter>; schemas?: Record<string, Schema> };
}

/** What a query parameter's value must look like, in words, from its schema in the contract. */
function expectations(spec: Spec): Map<string, string> {
  const deref = <T extends { $ref?: string }>(node: T | undefined): T | undefined => {
    let current = node;
    for (let hops = 0; current?.$ref && hops < 5; hops++) {
      const [, kind, name] = /^#\/components\/(parameters|schemas)\/(.+)$/.exec(current.$ref) ?? [];
      current = (kind && name ? spec.components?.[kind as 'parameters' | 'schemas']?.[name] : undefined) as T | undefined;
    }
    return current;
  };
  const out = new Map<string, string>();
  for (const item of Object.values(spec.paths ?? {})) {
    for (const op of Object.values(item)) {
      for (const ref of op.parameters ?? []) {
        const p = deref(ref);
        const schema = deref(p?.schema);
        if (p?.in !== 'query' || !p.name || !schema || out.has(p.name)) continue;
        const first = schema.examples?.[0];
        const example = typeof first === 'string' || typeof first === 'number' ? `, such as ${first}` : '';
        out.set(
          p.name,
          schema.pattern?.includes('\\.')
            ? `must be a decimal number with a dot as the decimal separator${example} (no comma, no other characters)`
            : `contains a reserved character (, : / ? # [ ] @ ! $ & ' ( ) * + ; =): percent-encode it${schema.description ? `; expected: ${schema.description}` : ''}${example}`,
        );
      }
    }
  }
  return out;
}

/**
 * The contract's validator refuses a query value with a reserved character (`min_price=10,5`) with
 * "Parameter 'min_price' must be url encoded...", which tells a person nothing about the value it
 * wants. This says what is expected instead, from the parameter's schema (a decimal with a dot).
 */
export function explainReservedCharacters(spec: object): ErrorRequestHandler {
  const expected = expectations(spec);
  return (err, _req, _res, next) => {
    const issues = (err as { errors?: { path?: string; message?: string }[] } | null)?.errors;
    if (Array.isArray(issues)) {
      for (const issue of issues) {
        const name = /^Parameter '([^']+)' must be url encoded/.exec(issue.message ?? '')?.[1];
        const hint = name ? expected.get(name) : undefined;
        if (hint) issue.message = hint;
      }
    }
    next(err);
  };
}
