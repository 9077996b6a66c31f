/**
 * A plain library program never loads the CLI's plugin configuration unless
 * it asks for a plugin's task type: runWorker with the built-in `shell`, or
 * with a function module, loads neither oclif nor the plugins linked with
 * `jobq plugins` (here, one whose hook leaves a marker file when it runs).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runCli, tempHome } from '../helpers/cli.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const api = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'index.js')).href;

describe('the library and the CLI\'s plugins', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const marker = path.join(home.home, 'hook-ran');
  const env: NodeJS.ProcessEnv = {
    ...home.env,
    XDG_DATA_HOME: path.join(home.home, 'xdg-data'),
    XDG_CACHE_HOME: path.join(home.home, 'xdg-cache'),
    XDG_CONFIG_HOME: path.join(home.home, 'xdg-config'),
    JOBQ_DATA_DIR: undefined,
    JOBQ_CACHE_DIR: undefined,
    JOBQ_CONFIG_DIR: undefined,
    HOOK_MARKER: marker,
  };

  before(async () => {
    const root = path.join(home.home, 'marking-plugin');
    mkdirSync(root, { recursive: true });
    const pjson = { name: 'marking-plugin', version: '1.0.0', type: 'module', oclif: { hooks: { 'jobq:task-types': './hook.js' } } };
    writeFileSync(path.join(root, 'package.json'), JSON.stringify(pjson));
    writeFileSync(
      path.join(root, 'hook.js'),
      'import { writeFileSync } from "node:fs";\n' +
        'export default async function () { writeFileSync(process.env.HOOK_MARKER, "ran"); console.warn("plugin hook ran"); return []; }\n',
    );
    const link = await runCli(['plugins', 'link', '--no-install', root], { env });
    assert.equal(link.code, 0, link.stderr);
    rmSync(marker, { force: true });
  });

  /** Runs `body` (ESM, with the API as `jobq`) in a fresh node; returns its output and whether oclif got loaded. */
  async function program(body: string): Promise<{ stdout: string; stderr: string }> {
    const script = [
      `const jobq = await import(${JSON.stringify(api)});`,
      'const { createRequire } = await import("node:module");',
      body,
      'const oclifLoaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes("/@oclif/"));',
      'console.log(`oclif loaded: ${oclifLoaded}`);',
    ].join('\n');
    return run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 60_000 });
  }

  it('runWorker with proc shell runs tasks without loading oclif or the plugins', async () => {
    const { stdout, stderr } = await program(`
      const queue = await jobq.JobQueue.open('local/isolated');
      await jobq.pushTask(queue, jobq.shellTaskKwargs('echo from-a-task'));
      const result = await jobq.runWorker(queue, { proc: 'shell' });
      console.log(\`succeeded: \${result.stats.succeeded}\`);
      await queue.close();`);
    assert.match(stdout, /succeeded: 1/);
    assert.match(stdout, /oclif loaded: false/);
    assert.equal(stderr, '', 'no plugin warnings');
    assert.equal(existsSync(marker), false, 'the plugin hook did not run');
  });

  it('a function module path does not load them either', async () => {
    const module = path.join(fixturesDir, 'functions', 'add.js');
    const { stdout } = await program(`
      const processor = await jobq.createProcessor(${JSON.stringify(module)}, { numWorkers: 1, emulateTty: false });
      await processor.close();`);
    assert.match(stdout, /oclif loaded: false/);
    assert.equal(existsSync(marker), false);
  });

  it('a task type by name does load them (so the two cases above could fail)', async () => {
    const { stdout, stderr } = await program(`
      await jobq.createProcessor('no-such-type', { numWorkers: 1, emulateTty: false }).catch((err) => console.log(err.code));`);
    assert.match(stdout, /USAGE/);
    assert.match(stdout, /oclif loaded: true/);
    assert.match(stderr, /plugin hook ran/);
    assert.equal(existsSync(marker), true);
  });
});
