import spec from '../../generated/openapi.bundle.json';

/** A node of the bundled contract (generated/openapi.bundle.json). */
export type Json = Record<string, unknown>;

/** The bundled contract, as plain JSON. */
export const contract = spec as unknown as Json;

/** Follows local `$ref`s (`#/components/...`) in the bundled contract; `{}` when there is nothing there. */
export function deref(node: unknown): Json {
  let current = node as Json | undefined;
  for (let hops = 0; typeof current?.$ref === 'string' && hops < 10; hops++) {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json | undefined>((o, key) => o?.[key.replace(/~1/g, '/').replace(/~0/g, '~')] as Json | undefined, contract);
  }
  return current ?? {};
}

/** A contract path (`/api/product/{id}/`) as a pattern of the concrete paths it matches. */
export function pathPattern(path: string): RegExp {
  const parts = path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}
