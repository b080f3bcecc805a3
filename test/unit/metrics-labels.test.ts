import { graphqlOperationLabel } from '../../src/http/metrics';

describe('the GraphQL operation label', () => {
  it('names the operation, or says it has none', () => {
    expect(graphqlOperationLabel('CategoryMenu')).toBe('graphql:CategoryMenu');
    expect(graphqlOperationLabel('_private_1')).toBe('graphql:_private_1');
    expect(graphqlOperationLabel(undefined)).toBe('graphql:anonymous');
    expect(graphqlOperationLabel(null)).toBe('graphql:anonymous');
    expect(graphqlOperationLabel('')).toBe('graphql:anonymous');
  });

  it('bounds the label set: long names and non-names are graphql:other', () => {
    expect(graphqlOperationLabel('a'.repeat(64))).toBe(`graphql:${'a'.repeat(64)}`);
    expect(graphqlOperationLabel('a'.repeat(65))).toBe('graphql:other');
    for (const name of ['1abc', 'a-b', 'a b', 'é', 'a"}', 'a\nb']) expect(graphqlOperationLabel(name)).toBe('graphql:other');
  });
});
