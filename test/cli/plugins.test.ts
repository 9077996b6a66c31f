import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

const hashPlugin = path.join(repoRoot, 'plugins', 'jobq-plugin-hash');

interface ListedType {
  name: string;
  description: string;
  plugin: string;
  kind: string;
}

function parseJsonLines(text: string): ListedType[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ListedType);
}

/** Writes an oclif plugin whose `jobq:task-types` hook is `hookSource`, for the cases a real plugin should never hit. */
function writePlugin(dir: string, name: string, hookSource: string): string {
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  const pjson = { name, version: '1.0.0', type: 'module', oclif: { hooks: { 'jobq:task-types': './hook.js' } } };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(pjson));
  writeFileSync(path.join(root, 'hook.js'), hookSource);
  return root;
}

describe('task types from plugins (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  // oclif keeps installed and linked plugins under XDG_DATA_HOME/jobq (or JOBQ_DATA_DIR): both point into this test's home.
  const env: NodeJS.ProcessEnv = {
    ...home.env,
    XDG_DATA_HOME: path.join(home.home, 'xdg-data'),
    XDG_CACHE_HOME: path.join(home.home, 'xdg-cache'),
    XDG_CONFIG_HOME: path.join(home.home, 'xdg-config'),
    JOBQ_DATA_DIR: undefined,
    JOBQ_CACHE_DIR: undefined,
    JOBQ_CONFIG_DIR: undefined,
  };

  before(async () => {
    assert.ok(existsSync(path.join(hashPlugin, 'dist', 'src', 'task-types.js')), 'the hash plugin is built (npm run build)');
    const link = await runCli(['plugins', 'link', '--no-install', hashPlugin], { env });
    assert.equal(link.code, 0, link.stderr);
  });

  it('task-types lists the built-in shell and the linked plugin\'s hash', async () => {
    const text = await runCli(['task-types'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^shell +\S.*\(jobq\)$/m);
    assert.match(text.stdout, /^hash +Checksum a file.*\(jobq-plugin-hash\)$/m);

    const json = await runCli(['task-types', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const listed = parseJsonLines(json.stdout);
    assert.deepEqual(
      listed.map(({ name, plugin, kind }) => ({ name, plugin, kind })),
      [
        { name: 'shell', plugin: 'jobq', kind: 'processor' },
        { name: 'hash', plugin: 'jobq-plugin-hash', kind: 'function' },
      ],
    );
  });

  it('worker --proc hash checksums files on two threads', async () => {
    const first = path.join(home.home, 'first.txt');
    const second = path.join(home.home, 'second.bin');
    writeFileSync(first, 'hello, jobq\n');
    writeFileSync(second, Buffer.alloc(200_000, 7));
    const tasks = [JSON.stringify({ path: first }), JSON.stringify({ path: second, algorithm: 'md5' })].join('\n');
    const push = await runCli(['local/hashes', 'push'], { env, input: tasks });
    assert.equal(push.code, 0, push.stderr);

    const worker = await runCli(['local/hashes', 'worker', '--proc', 'hash', '-n', '2'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    const sha256 = createHash('sha256').update('hello, jobq\n').digest('hex');
    const md5 = createHash('md5').update(Buffer.alloc(200_000, 7)).digest('hex');
    assert.ok(worker.stdout.includes(`sha256 ${sha256}  ${first}\n`), worker.stdout);
    assert.ok(worker.stdout.includes(`md5 ${md5}  ${second}\n`), worker.stdout);
    assert.match(worker.stderr, /2 succeeded, 0 failed/);
    assert.equal((await runCli(['local/hashes', 'size'], { env })).stdout.trim(), '0');
  });

  it('a missing file fails the task, which lands in the dead-letter queue with the error', async () => {
    const missing = path.join(home.home, 'no-such-file.txt');
    assert.equal((await runCli(['local/hash-missing', 'push'], { env, input: JSON.stringify({ path: missing }) })).code, 0);
    const worker = await runCli(['local/hash-missing', 'worker', '--proc', 'hash'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stderr, /0 succeeded, 1 failed/);

    const list = await runCli(['local/hash-missing', 'dlq', 'list', '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 1);
    assert.ok(String(records[0]?.['error']).startsWith(`hash: cannot read ${missing}: no such file`), String(records[0]?.['error']));
  });

  it('a stop reaches the hash task through ctx.signal: SIGINT releases it and exits 130', async () => {
    // /dev/zero never ends: only the abort ends this task. With a kill timeout of
    // 60 s, ending in time shows the task stopped itself rather than being terminated.
    assert.equal((await runCli(['local/hash-endless', 'push'], { env, input: JSON.stringify({ path: '/dev/zero' }) })).code, 0);
    const worker = startCli(['local/hash-endless', 'worker', '--proc', 'hash'], { env: { ...env, JOBQ_KILL_TIMEOUT: '60s' } });
    await worker.waitForOutput(/started/);
    const stoppedAt = Date.now();
    worker.signal('SIGINT');
    const exit = await worker.exited;
    assert.equal(exit.code, 130, exit.stderr);
    assert.ok(Date.now() - stoppedAt < 10_000, 'the task ended on its abort signal, long before the kill timeout');
    assert.equal((await runCli(['local/hash-endless', 'size'], { env })).stdout.trim(), '1', 'released, not failed');
  });

  it('--proc still takes a function module path, relative to the current directory', async () => {
    assert.equal((await runCli(['local/echoes', 'push'], { env, input: '{"word": "hi"}' })).code, 0);
    const pull = await runCli(['local/echoes', 'pull', '--proc', './task-types/echo.js'], { env, cwd: fixturesDir });
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /^echo \{"word":"hi","env":\{\},"bg_dirsync_to":null\}$/m);
  });

  it('the programmatic API sees the plugins linked with `jobq plugins`', async () => {
    const api = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'index.js')).href;
    const script = [
      `const { createProcessor } = await import(${JSON.stringify(api)});`,
      `const processor = await createProcessor('hash', { numWorkers: 1, emulateTty: false });`,
      'console.log(processor.name);',
      'await processor.close();',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
    });
    assert.equal(stdout.trim(), 'hash');
  });

  it('skips bad definitions and failing hooks with a warning naming the plugin, never a crash', async () => {
    const badDefinitions = `export default async function () {
      return [
        { name: 'hash', description: 'a second hash', module: '/elsewhere/hash.js' },
        { name: 'no spaces allowed', description: 'x', module: '/x.js' },
        { name: 'relative', description: 'x', module: './relative.js' },
        { name: 'both', description: 'x', module: '/x.js', createProcessor: () => null },
        42,
        { name: 'fine', description: 'a good one', module: ${JSON.stringify(path.join(fixturesDir, 'task-types', 'echo.js'))} },
      ];
    }\n`;
    // Linked plugins get their names in package-name order: these sort after jobq-plugin-hash, which keeps `hash`.
    const bad = writePlugin(home.home, 'zz-bad-definitions', badDefinitions);
    const throws = writePlugin(home.home, 'zz-throwing-hook', 'export default async function () { throw new Error("boom"); }\n');
    const notArray = writePlugin(home.home, 'zz-not-an-array', 'export default async function () { return { name: "x" }; }\n');
    for (const root of [bad, throws, notArray]) {
      const link = await runCli(['plugins', 'link', '--no-install', root], { env });
      assert.equal(link.code, 0, link.stderr);
    }
    try {
      const listing = await runCli(['task-types', '--json'], { env });
      assert.equal(listing.code, 0, listing.stderr);
      assert.deepEqual(
        parseJsonLines(listing.stdout).map(({ name, plugin }) => `${name}:${plugin}`),
        ['shell:jobq', 'hash:jobq-plugin-hash', 'fine:zz-bad-definitions'],
      );
      const warnings = listing.stderr;
      assert.match(warnings, /plugin zz-bad-definitions: task type "hash" is already defined by jobq-plugin-hash; ignored/);
      assert.match(warnings, /plugin zz-bad-definitions: task type "no spaces allowed" has no valid name/);
      assert.match(warnings, /plugin zz-bad-definitions: task type "relative" has a module that is not an absolute path or file: URL/);
      assert.match(warnings, /plugin zz-bad-definitions: task type "both" must have exactly one of `module` and `createProcessor`/);
      assert.match(warnings, /plugin zz-bad-definitions: task type #5 is a number, not an object/);
      assert.match(warnings, /plugin zz-throwing-hook: its jobq:task-types hook failed: boom/);
      assert.match(warnings, /plugin zz-not-an-array: its jobq:task-types hook returned an object, not an array/);

      // A worker says the same and runs on.
      assert.equal((await runCli(['local/fine', 'push'], { env, input: '{"word": "fine"}' })).code, 0);
      const worker = await runCli(['local/fine', 'worker', '--proc', 'fine'], { env });
      assert.equal(worker.code, 0, worker.stderr);
      assert.match(worker.stderr, /WARN: plugin zz-throwing-hook: its jobq:task-types hook failed: boom/);
      assert.match(worker.stdout, /^echo \{"word":"fine","env":\{\},"bg_dirsync_to":null\}$/m);
    } finally {
      for (const name of ['zz-bad-definitions', 'zz-throwing-hook', 'zz-not-an-array']) {
        await runCli(['plugins', 'uninstall', name], { env });
      }
    }
  });

  it('after plugins uninstall, hash is gone: task-types does not list it and --proc hash is a usage error', async () => {
    const uninstall = await runCli(['plugins', 'uninstall', 'jobq-plugin-hash'], { env });
    assert.equal(uninstall.code, 0, uninstall.stderr);
    const listing = await runCli(['task-types', '--json'], { env });
    assert.deepEqual(parseJsonLines(listing.stdout).map((type) => type.name), ['shell']);
    const worker = await runCli(['local/hashes', 'worker', '--proc', 'hash'], { env });
    assert.equal(worker.code, 2, worker.stderr);
    assert.match(worker.stderr, /unknown task type "hash": available task types are: shell\b/);
  });
});
