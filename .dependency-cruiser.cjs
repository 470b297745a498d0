/**
 * The import rules of the repository, checked by `npm test` (test/architecture.test.ts runs depcruise with
 * this file). Each rule says why; an exception belongs beside the import it allows, with a comment saying
 * why, and in the rule's `pathNot` here.
 *
 * The layers, from the bottom: lib/time.ts, lib/errors.ts, lib/metrics/ and lib/dashboard-links.ts (leaf
 * modules every layer may use) → lib/bands/ (the engine) → lib/ports/ (one module per port, with the stores' errors), lib/keys.ts →
 * the domain (lib/ingest/, lib/alerts/, lib/query/, lib/backtest/) → lib/jobs/ → lib/adapters/ → the programs
 * that compose them (functions/, cdk/, scripts/, bench/, agent/, dashboard/) → test/.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import loop: the modules cannot be read, tested or bundled one without the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-no-program',
      severity: 'error',
      comment:
        'lib/ is the library: the programs (functions, stack, scripts, benchmarks, agent, dashboard) and the ' +
        'tests import it, never the other way.',
      from: { path: '^lib/' },
      to: { path: '^(functions|cdk|scripts|bench|test|dashboard|agent)/' },
    },
    {
      name: 'engine-is-pure',
      severity: 'error',
      comment:
        'lib/bands is the engine: a pure library (no I/O, no package) that imports only itself and the leaf ' +
        'modules lib/time.ts and lib/metrics/step.ts (constants and arithmetic).',
      from: { path: '^lib/bands/' },
      to: { pathNot: ['^lib/bands/', '^lib/time\\.ts$', '^lib/metrics/step\\.ts$'] },
    },
    {
      name: 'leaf-modules-import-only-leaves',
      severity: 'error',
      comment:
        'The leaf modules (time, errors, the metric model, dashboard links) are imported by every layer, so ' +
        'they import none of them.',
      from: { path: '^lib/(time\\.ts|errors\\.ts|dashboard-links\\.ts|metrics/)' },
      to: { path: '^lib/', pathNot: '^lib/(time\\.ts|errors\\.ts|dashboard-links\\.ts|metrics/)' },
    },
    {
      name: 'domain-not-sideways',
      severity: 'error',
      comment:
        'The domain modules (ingest, alerts, query, backtest) do not import one another, nor the job, the ' +
        'adapters or the HTTP routes: what two of them share moves down (lib/metrics, lib/ports).',
      from: { path: '^lib/(ingest|alerts|query|backtest)/' },
      to: { path: '^lib/(ingest|alerts|query|backtest|jobs|adapters|http)/', pathNot: '^lib/$1/' },
    },
    {
      name: 'job-not-on-adapters',
      severity: 'error',
      comment: 'The band job sees ports; the compositions (functions/, the local server) give it adapters.',
      from: { path: '^lib/jobs/' },
      to: { path: '^lib/(adapters|http)/' },
    },
    {
      name: 'adapters-only-down',
      severity: 'error',
      comment:
        'An adapter implements a port: it imports the ports, the leaf modules and the domain models it stores ' +
        '(lib/alerts), not the services that use it (ingest, query, the job).',
      from: { path: '^lib/adapters/' },
      to: { path: '^lib/(ingest|query|jobs|http|backtest)/' },
    },
    {
      name: 'only-compositions-import-adapters',
      severity: 'error',
      comment:
        'Inside lib/, only adapters import adapters; the programs (functions/, scripts/...) choose them.',
      from: { path: '^lib/', pathNot: '^lib/adapters/' },
      to: { path: '^lib/adapters/' },
    },
    {
      name: 'drivers-only-in-adapters',
      severity: 'error',
      comment:
        'Only lib/adapters (and the programs: cdk, functions, scripts, bench, test) import the AWS SDK, SQLite ' +
        'or another driver; the rest of lib/ stays runnable and testable without them.',
      from: { pathNot: '^(lib/adapters|cdk|functions|scripts|bench|test)/' },
      // Matched anywhere in the resolved path: node_modules may be a link to another checkout's.
      to: {
        path: '(^|/)node_modules/(@aws-sdk|@smithy|better-sqlite3|aws-sdk-client-mock|dynalite|playwright-core)/',
      },
    },
    {
      name: 'lib-has-no-io',
      severity: 'error',
      comment:
        'lib/ outside the adapters does no I/O: files, sockets, processes and threads belong to the adapters ' +
        'and the programs.',
      from: { path: '^lib/', pathNot: '^lib/adapters/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|http|https|http2|net|dgram|tls|child_process|worker_threads|cluster)$',
      },
    },
    {
      name: 'stack-reads-names-not-adapters',
      severity: 'error',
      comment:
        'The stack takes table, index and key names from lib/adapters/schema.ts, which loads no SDK; an ' +
        'adapter would load its SDK client into synth.',
      from: { path: '^cdk/' },
      to: { path: '^lib/adapters/', pathNot: '^lib/adapters/schema\\.ts$' },
    },
    {
      name: 'schema-is-a-leaf',
      severity: 'error',
      comment: 'lib/adapters/schema.ts is read by the stack: it imports nothing, so synth loads no SDK.',
      from: { path: '^lib/adapters/schema\\.ts$' },
      to: {},
    },
    {
      name: 'compositions-not-back-into-functions',
      severity: 'error',
      comment:
        "functions/shared/ is imported by the functions; a function's dependency types live in " +
        'functions/shared/dependencies.ts so a composition never imports its function.',
      from: { path: '^functions/shared/' },
      to: { path: '^functions/[^/]+\\.ts$' },
    },
    {
      name: 'tools-not-on-tests',
      severity: 'error',
      comment:
        'bench/ and scripts/ run on their own: what they share with the tests lives in scripts/dev/, which ' +
        'both import.',
      from: { path: '^(bench|scripts)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type import still ties a module to the layer it names.
    tsPreCompilationDeps: true,
  },
};
