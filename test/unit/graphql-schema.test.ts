import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, type GraphQLEnumType } from 'graphql';
import spec from '../../generated/openapi.bundle.json';
import { typeDefs } from '../../generated/graphql-schema';
import { DEFAULT_LIMITS } from '../../src/graphql/limits';

const root = join(__dirname, '..', '..');
const schema = buildSchema(typeDefs);

describe('the GraphQL schema says what the server enforces', () => {
  it('its description states the limits of src/graphql/limits.ts, and so does docs/architecture.md', () => {
    const stated = /depth (\d+), (\d+) aliases, cost (\d+)/;
    for (const [where, text] of [
      ['graphql/schema.graphql', schema.description ?? ''],
      ['docs/architecture.md', readFileSync(join(root, 'docs', 'architecture.md'), 'utf8')],
    ] as const) {
      const m = stated.exec(text);
      expect({ where, limits: m && { maxDepth: Number(m[1]), maxAliases: Number(m[2]), maxCost: Number(m[3]) } }).toEqual({ where, limits: DEFAULT_LIMITS });
    }
  });

  it('carries a version line (the breaking-change gate reads it)', () => {
    expect(schema.description).toMatch(/^Version: \d+\.\d+\.\d+\b/m);
    expect(readFileSync(join(root, 'graphql', 'schema.graphql'), 'utf8')).toBe(typeDefs);
  });

  const schemas = (spec as { components: { schemas: Record<string, any> } }).components.schemas;
  /** The non-null values of a contract enum, through `$ref`s and a nullable `oneOf`. */
  const enumOf = (node: any): unknown[] => {
    if (node.$ref) return enumOf(schemas[String(node.$ref).replace('#/components/schemas/', '')]);
    if (node.oneOf) return node.oneOf.flatMap((n: any) => (n.type === 'null' ? [] : enumOf(n)));
    return (node.enum ?? []).filter((v: unknown) => v !== null);
  };
  it.each([
    ['OrderStatus', schemas.Order.properties.status],
    ['PaymentStatus', schemas.Order.properties.payment_status],
    ['PaymentAttemptStatus', schemas.Payment.properties.status],
    ['PaymentMethod', schemas.Payment.properties.method],
    ['ShipmentStatus', schemas.Shipment.properties.status],
    ['ReturnStatus', schemas.Return.properties.status],
    ['RefundStatus', schemas.Refund.properties.status],
    ['UserRole', schemas.User.properties.role],
    ['AddressKind', schemas.Address.properties.kind],
    ['CartItemProblem', schemas.CartItem.properties.problem],
  ].map(([name, node]) => [name, enumOf(node)]))("enum %s has exactly the REST contract's values", (name, values) => {
    const type = schema.getType(name) as GraphQLEnumType;
    expect(type.getValues().map((v) => v.value)).toEqual(values);
  });
});
