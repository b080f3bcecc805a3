/**
 * The architecture's import rules (`npm run lint:arch`), checked in CI. See docs/architecture.md,
 * "Contexts and their boundaries".
 *
 * - A context (src/modules/<context>/) is reached from outside only through its public index.ts.
 *   The one exception is the persistence mapping: an entity may name another context's entity as
 *   the target of a foreign key (one database, one schema).
 * - Inside a context, only the REST handlers know HTTP.
 * - The layers below the contexts (http/, db/, shared/) know no context and nothing above them.
 * - No cycles anywhere in src/.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other in a loop: split what both need into a third place.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'context-through-index',
      severity: 'error',
      comment: "A context uses another context only through that context's index.ts (its services, types and events).",
      from: { path: '^src/modules/([^/]+)/', pathNot: '\\.entity\\.ts$' },
      to: { path: '^src/modules/([^/]+)/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'entities-name-only-entities',
      severity: 'error',
      comment: "An entity may refer to another context's entity (a foreign key), and to nothing else of it.",
      from: { path: '^src/modules/([^/]+)/[^/]+\\.entity\\.ts$' },
      to: { path: '^src/modules/([^/]+)/', pathNot: ['^src/modules/$1/', '\\.entity\\.ts$'] },
    },
    {
      name: 'outside-through-index',
      severity: 'error',
      comment: 'Code outside the contexts (composition, GraphQL, jobs, seeds) uses a context only through its index.ts.',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'contexts-below-adapters',
      severity: 'error',
      comment: 'A context knows neither the processes nor the adapters that call it (GraphQL, jobs, the composition root).',
      from: { path: '^src/modules/' },
      to: { path: '^src/(app|services|handlers|main|worker|graphql/|jobs/|cli/|seed/)' },
    },
    {
      name: 'only-handlers-know-http',
      severity: 'error',
      comment: "Inside a context only <context>.handlers.ts (the REST adapter) imports src/http/.",
      from: { path: '^src/modules/', pathNot: '\\.handlers\\.ts$' },
      to: { path: '^src/http/' },
    },
    {
      name: 'infrastructure-knows-no-context',
      severity: 'error',
      comment: 'http/, db/, shared/ and storage/ serve every context and know none of them, nor anything above them.',
      from: { path: '^src/(http|db|shared|storage)/' },
      to: { path: '^src/(modules/|app|services|handlers|main|worker|graphql/|jobs/|cli/|seed/)' },
    },
    {
      name: 'shared-is-pure',
      severity: 'error',
      comment: 'shared/ is small and pure: it imports nothing else of src/.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(generated|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
