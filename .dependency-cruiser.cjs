/**
 * The layering, checked by `npm run lint` (and so by .ci/run). docs/architecture.md explains it:
 *
 *   cli/  ──►  reports/  ──►  analyses/  ──►  src/ (the core)
 *     │            │              ▲
 *     └──► linear/ ┘ (its report reads linear's result type)
 *
 * An arrow is "may import". Nothing imports cli/ (bin/groklens.js starts it); bench/, scripts/
 * and tests/ may import anything.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing-above',
      comment:
        'src/ is the core (tasks, models, optimisers, training, run store, checkpoint I/O): it knows no analysis, report, CLI or the linear theory.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(analyses|reports|cli|linear|bench|scripts|tests)/' },
    },
    {
      name: 'analyses-below-reports-and-cli',
      comment:
        'analyses/ are pure passes over checkpoints and the run-level results derived from them: they never import reports, the CLI or the linear theory.',
      severity: 'error',
      from: { path: '^analyses/' },
      to: { path: '^(reports|cli|linear|bench|scripts|tests)/' },
    },
    {
      name: 'linear-is-its-own-part',
      comment: 'linear/ (the linear-grokking theory) builds on the core only.',
      severity: 'error',
      from: { path: '^linear/' },
      to: { path: '^(analyses|reports|cli|bench|scripts|tests)/' },
    },
    {
      name: 'reports-render-plain-data',
      comment:
        'reports/ render plain data: never the models, the training loop, the optimisers, the backend, the tasks or the CLI.',
      severity: 'error',
      from: { path: '^reports/' },
      to: {
        path: '^(cli|bench|scripts|tests)/|^src/(models|optim|backend|tasks|import|export)/|^src/run/(train|session|objective|divergence|checks|memory)\\.ts$',
      },
    },
    {
      name: 'reports-read-linear-results-only',
      comment: 'The linear report reads the result types of linear/, nothing that computes them.',
      severity: 'error',
      from: { path: '^reports/' },
      to: {
        path: '^linear/',
        pathNot: '^linear/(experiment|runs|sweeps|ridge)\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the composition root: only bin/groklens.js, tests and benchmarks start it.',
      severity: 'error',
      from: { path: '^(src|analyses|reports|linear)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment:
        'Every import resolves, except wabt, which scripts/build-simd-kernels.ts installs on demand (not a dependency).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^wabt$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|scratch|fixtures)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
