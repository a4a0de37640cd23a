// Layering (ARCHITECTURE §2): imports point down only, and nothing imports in a cycle.
const layer = (name) => `^src/${name}/`;
// platform: thin wrappers over the OS (run a program, make a directory), below everything that does I/O.
const allowed = {
  core: ['core'],
  protocol: ['core', 'protocol'],
  platform: ['platform'],
  storage: ['core', 'protocol', 'platform', 'storage'],
  // host: readers of the host's own package databases (dpkg's status, file lists, alternatives, ld.so.cache), for
  // the importers, standalone check and the agent alike.
  host: ['core', 'platform', 'host'],
  hashdb: ['core', 'storage', 'platform', 'host', 'hashdb'],
  analysis: ['core', 'storage', 'hashdb', 'platform', 'analysis'],
  agent: ['core', 'protocol', 'platform', 'host', 'agent'],
  manager: ['core', 'protocol', 'storage', 'hashdb', 'host', 'analysis', 'platform', 'manager'],
};
const layerRules = Object.entries(allowed).map(([from, to]) => ({
  name: `${from}-imports-down-only`,
  severity: 'error',
  comment: `${from} may import only ${to.join(', ')}`,
  from: { path: layer(from) },
  to: { path: '^src/', pathNot: `^src/(${to.join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'core and protocol do no I/O: no file system, network, processes, threads, databases or loggers',
      from: { path: '^src/(core|protocol)/' },
      to: {
        path: '^(fs|node:fs|fs/promises|node:fs/promises|net|node:net|tls|node:tls|http|node:http|https|node:https|child_process|node:child_process|worker_threads|node:worker_threads|dgram|node:dgram|better-sqlite3|pg|pino)$',
        dependencyTypes: ['core', 'npm'],
      },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '(\\.test\\.ts$|^test/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
