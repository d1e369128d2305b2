/**
 * Folder rules (issue "Serving API, CI/CD and code health"), checked by `npm test`
 * (tests/unit/architecture.test.ts). Each folder has one job and dependencies point one way:
 *
 *   cli, scripts, bench ─┐
 *   training ─→ model-export ─→ core ←─ worker
 *   node-runtime ────────────→ core ←─ extension
 *
 * core/ is shared by the browser, workerd and Node, so it imports no other folder; worker/ and
 * extension/ never import each other (they share only core/'s wire formats); model-export/ turns a
 * trained model into a bundle and needs core/ alone; nothing the product ships imports tests/.
 */
const FOLDERS = ['core', 'worker', 'extension', 'training', 'model-export', 'node-runtime', 'cli', 'scripts', 'bench', 'tests'];
const others = (...allowed) => `^(${FOLDERS.filter((f) => !allowed.includes(f)).join('|')})/`;

module.exports = {
  forbidden: [
    { name: 'core-is-a-leaf', comment: 'core/ runs in the browser, workerd and Node: it imports no other folder.', severity: 'error', from: { path: '^core/' }, to: { path: others('core') } },
    { name: 'worker-not-extension', comment: 'The worker and the extension share only core/.', severity: 'error', from: { path: '^worker/' }, to: { path: '^extension/' } },
    { name: 'extension-not-worker', comment: 'The worker and the extension share only core/.', severity: 'error', from: { path: '^extension/' }, to: { path: '^worker/' } },
    { name: 'worker-imports-core-only', comment: 'The worker runs in workerd: besides itself, only core/.', severity: 'error', from: { path: '^worker/' }, to: { path: others('worker', 'core') } },
    {
      name: 'extension-imports-core-only',
      comment: 'The extension runs in the browser: besides itself, only core/.',
      severity: 'error',
      from: { path: '^extension/' },
      to: { path: others('extension', 'core') },
    },
    // A folder's command-line entry points (*-cli.ts) are CLIs: they may use cli/'s argument and file helpers.
    {
      name: 'model-export-imports-core-only',
      comment: 'training/ → model-export/ → core/: export never reaches back into training.',
      severity: 'error',
      from: { path: '^model-export/', pathNot: '-cli\\.ts$' },
      to: { path: others('model-export', 'core', 'node-runtime') },
    },
    {
      name: 'training-not-serving',
      comment: 'Training builds models; it does not import the worker, the extension, the CLIs or benches.',
      severity: 'error',
      from: { path: '^training/', pathNot: '-cli\\.ts$' },
      to: { path: '^(worker|extension|cli|bench|scripts)/' },
    },
    {
      name: 'node-runtime-below-cli',
      comment: 'node-runtime/ loads bundles in Node for the CLIs, tests and benches: only core/ below it.',
      severity: 'error',
      from: { path: '^node-runtime/' },
      to: { path: others('node-runtime', 'core') },
    },
    {
      name: 'no-product-imports-tests',
      comment: 'Nothing shipped or run by users imports test code.',
      severity: 'error',
      from: { path: '^(core|worker|extension|training|model-export|node-runtime|cli|scripts)/' },
      to: { path: '^tests/' },
    },
    { name: 'no-circular', comment: 'Import cycles make initialization order matter.', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|scratch|\\.cache|\\.wrangler|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.mts', '.js', '.mjs', '.json'] },
  },
};
