/**
 * The layering of docs/architecture.md, checked by `npm run lint`:
 *
 *   core <- config <- leaf helpers (utils, http, observability) <- adapters, agents, sandbox
 *        <- worker <- app <- cli, main
 *
 * Every rule is a "forbidden" one: an import that matches fails the lint with the rule's comment.
 */
const ADAPTERS = ['telegram', 'github', 'gateway', 'store', 'queue', 'git', 'memory'];
const LEAVES = ['utils', 'http', 'observability'];
const src = (folders) => `^src/(${folders.join('|')})/`;

/** Each adapter may not import any other adapter. */
const adapterRules = ADAPTERS.map((adapter) => ({
  name: `adapter-${adapter}-is-isolated`,
  comment: `src/${adapter} is an adapter: it imports core and the leaf helpers, never another adapter, app/ or worker/`,
  severity: 'error',
  from: { path: `^src/${adapter}/` },
  to: {
    path: [
      src(ADAPTERS.filter((a) => a !== adapter)),
      '^src/(app|worker|cli)/',
      '^src/main\\.ts$',
      '^agents/',
      '^sandbox/',
    ],
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make the layering meaningless',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing',
      comment: 'src/core is the model and the ports: it imports nothing else of the project',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^(src|agents|sandbox)/', pathNot: '^src/core/' },
    },
    {
      name: 'config-imports-core-only',
      comment: 'src/config reads the environment; it may use core, nothing else',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^(src|agents|sandbox)/', pathNot: '^src/(core|config)/' },
    },
    {
      name: 'utils-are-leaves',
      comment: 'src/utils are leaf helpers with no project imports',
      severity: 'error',
      from: { path: '^src/utils/' },
      to: { path: '^(src|agents|sandbox)/', pathNot: '^src/utils/' },
    },
    {
      name: 'leaf-helpers-stay-low',
      comment: 'src/http and src/observability import only core, config and utils',
      severity: 'error',
      from: { path: '^src/(http|observability)/' },
      to: { path: '^(src|agents|sandbox)/', pathNot: src(['core', 'config', ...LEAVES]) },
    },
    ...adapterRules,
    {
      name: 'agents-and-sandbox-use-core-only',
      comment: 'agents/ and sandbox/ import only core and the leaf helpers',
      severity: 'error',
      from: { path: '^(agents|sandbox)/' },
      to: { path: '^src/', pathNot: src(['core', ...LEAVES]) },
    },
    {
      name: 'agents-and-sandbox-are-separate',
      comment: 'agents/ and sandbox/ meet only through core ports',
      severity: 'error',
      from: { path: '^agents/' },
      to: { path: '^sandbox/' },
    },
    {
      name: 'sandbox-knows-no-agents',
      comment: 'agents/ and sandbox/ meet only through core ports',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^agents/' },
    },
    {
      name: 'worker-composes-ports',
      comment:
        'src/worker composes ports: core, the leaf helpers and the queue it consumes; the adapters are wired by app/',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: {
        path: [
          src(ADAPTERS.filter((a) => a !== 'queue')),
          '^src/(app|cli)/',
          '^src/main\\.ts$',
          '^agents/',
          '^sandbox/',
        ],
      },
    },
    {
      name: 'app-is-the-top-of-the-library',
      comment: 'only the CLI (src/main.ts, src/cli) may import the composition root',
      severity: 'error',
      from: { path: '^(src|agents|sandbox)/', pathNot: '^src/(app|cli)/|^src/main\\.ts$' },
      to: { path: '^src/app/' },
    },
    {
      name: 'nothing-imports-the-cli',
      comment: 'src/main.ts and src/cli are entry points',
      severity: 'error',
      from: { path: '^(src|agents|sandbox)/', pathNot: '^src/cli/|^src/main\\.ts$' },
      to: { path: '^src/cli/|^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|tests|bench|eval)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
