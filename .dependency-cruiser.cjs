// The layering of docs/ARCHITECTURE.md, as rules: `npm run check:layers` (part of `npm test`) fails on
// any import that crosses a forbidden boundary, naming the rule. Keep this file and that table in step.
const SRC = '^(risk|db|market|activities|workflows|grpc|console|processes|infra|lib|backtest|cli|bench)/';

/** A rule that lets `from` import only the listed folders (plus itself and node_modules). */
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: SRC, pathNot: [`^${from}/`, ...allowed.map((a) => `^${a}/`)] },
});

/** A package that only the listed folders may import. */
const packageOnlyIn = (pkg, folders, comment) => ({
  name: `${pkg.replace(/[@/]/g, '-').replace(/^-/, '')}-only-in-${folders.join('-')}`,
  comment,
  severity: 'error',
  from: { path: SRC, pathNot: folders.map((f) => `^${f}/`) },
  to: { path: `node_modules/${pkg.replace('/', '\\/')}/` },
});

module.exports = {
  forbidden: [
    only('risk-is-pure', 'risk', [], 'risk/ holds pure mathematics and the domain model: it imports nothing else of Ballast'),
    {
      name: 'risk-no-io',
      comment: 'risk/ does no I/O: no fs, net, child processes, timers from node',
      severity: 'error',
      from: { path: '^risk/' },
      to: { dependencyTypes: ['core'], path: '^(fs|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|os)$' },
    },
    only('db-over-risk', 'db', ['risk', 'lib'], 'db/ holds all SQL; it may know the domain types and generic helpers'),
    only('market-over-db', 'market', ['risk', 'db', 'lib'], 'market data sources read files and stores'),
    only(
      'activities-are-adapters',
      'activities',
      ['risk', 'db', 'market', 'lib', 'workflows'],
      'activities read a store, call risk/, write a store',
    ),
    {
      name: 'activities-only-the-workflow-contract',
      comment: 'activities implement the contract the workflows declare; they import nothing else of workflows/, and only its types',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^workflows/', pathNot: '^workflows/contract\\.ts$' },
    },
    {
      name: 'activities-contract-types-only',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^workflows/contract\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    only('workflows-are-deterministic', 'workflows', ['risk'], 'workflow code is replay-bound: it imports only risk/ and its own files'),
    only('gate-is-thin', 'grpc', ['risk', 'lib', 'db'], 'the gate decides from memory; stores are injected'),
    {
      name: 'gate-gets-stores-injected',
      comment: 'grpc/ may name store types but never builds a pool or a store itself',
      severity: 'error',
      from: { path: '^grpc/' },
      to: { path: '^db/', dependencyTypesNot: ['type-only'] },
    },
    only(
      'console-is-an-edge-adapter',
      'console',
      ['risk', 'lib', 'db'],
      'the console reads through stores it is given and changes state only through the desk port (Temporal Updates), like the gate',
    ),
    {
      name: 'console-gets-stores-injected',
      comment: 'console/ may name store types but never builds a pool or a store itself: no SQL side door',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: '^db/', dependencyTypesNot: ['type-only'] },
    },
    only('infra-brings-up-services', 'infra', ['db', 'lib'], 'infra/ starts Temporal and Postgres and migrates'),
    only('lib-is-generic', 'lib', [], 'lib/ knows nothing of Ballast'),
    only('backtest-over-risk', 'backtest', ['risk', 'market', 'lib'], 'the backtest runs exactly the production risk/ code'),
    {
      name: 'nothing-imports-entry-points',
      comment: 'cli/ and bench/ are entry points: nothing imports them',
      severity: 'error',
      from: { path: SRC, pathNot: '^(cli|bench)/' },
      to: { path: '^(cli|bench)/' },
    },
    {
      name: 'processes-are-wired-at-the-top',
      comment: 'processes/ is imported only by cli/, bench/ and tests',
      severity: 'error',
      from: { path: SRC, pathNot: '^(cli|bench|processes)/' },
      to: { path: '^processes/' },
    },
    {
      name: 'no-tests-in-code',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^test/' },
    },
    packageOnlyIn('pg', ['db'], 'all SQL lives in db/'),
    packageOnlyIn('fastify', ['console'], 'HTTP serving lives in console/'),
    packageOnlyIn('@temporalio/workflow', ['workflows'], 'workflow APIs only in workflow code'),
    packageOnlyIn('@temporalio/activity', ['activities'], 'activity context only in activities'),
    {
      name: 'temporal-client-at-the-edges',
      comment: 'Temporal clients and workers are wired in processes/, cli/, infra/ and bench/',
      severity: 'error',
      from: { path: '^(risk|db|market|activities|workflows|grpc|console|lib|backtest)/' },
      to: { path: 'node_modules/@temporalio/(client|worker)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|^grpc/generated/|\\.d\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
