/** How the entry point rewrites argv for oclif (src/cli/argv.ts): global flags anywhere, the spec before the command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rewriteArgv, valueFlagsFromManifest } from '../../src/cli/argv.js';
import { repoRoot } from '../helpers/paths.js';

const valueFlags = valueFlagsFromManifest(path.join(repoRoot, 'oclif.manifest.json'));
const rewrite = (...argv: string[]) => rewriteArgv(argv, valueFlags, {});

test('the value flags come from the manifest, aliases and short forms included', () => {
  for (const flag of ['-c', '--command', '--cmd', '-e', '--env', '--bg-dirsync-to', '-n', '--num-workers', '--proc', '--conn-str']) {
    assert.ok(valueFlags.has(flag), flag);
  }
  assert.ok(!valueFlags.has('--json') && !valueFlags.has('-t'), 'boolean flags take no value');
});

test('the spec and the global flags go after the command words, wherever they were', () => {
  const expected = ['size', '--queue', 'local/q', '--log-level', 'debug', '--conn-str', 'C'];
  assert.deepEqual(rewrite('-v', '--conn-str', 'C', 'local/q', 'size'), expected);
  assert.deepEqual(rewrite('local/q', '-v', 'size', '--conn-str', 'C'), expected);
  assert.deepEqual(rewrite('--conn-str=C', 'local/q', 'size', '-v'), expected);
  assert.deepEqual(rewrite('dlq', 'list', '--queue', 'local/q', '-n', '3'), ['dlq', 'list', '--queue', 'local/q', '-n', '3']);
});

test('-v and -q count from --log-level or JOBQ_LOG_LEVEL', () => {
  assert.deepEqual(rewrite('local/q', 'size', '-vv'), ['size', '--queue', 'local/q', '--log-level', 'trace']);
  assert.deepEqual(rewrite('-q', '--log-level', 'debug', 'local/q', 'size'), ['size', '--queue', 'local/q', '--log-level', 'info']);
  assert.deepEqual(rewriteArgv(['-q', 'local/q', 'size'], valueFlags, { JOBQ_LOG_LEVEL: 'warn' }), ['size', '--queue', 'local/q', '--log-level', 'error']);
});

test('a flag\'s value is never taken for a global flag or a spec', () => {
  assert.deepEqual(rewrite('local/q', 'push', '-c', '-v', '--command', 'a/b'), ['push', '--queue', 'local/q', '-c', '-v', '--command', 'a/b']);
  assert.deepEqual(rewrite('plugins', 'link', './plugins/x'), ['plugins', 'link', './plugins/x']);
});

test('no command asks for the help; help and the version ignore the global flags', () => {
  assert.deepEqual(rewrite('local/q'), ['--help']);
  assert.deepEqual(rewrite(), ['--help']);
  assert.deepEqual(rewrite('-v', 'local/q', 'push', '--help'), ['push', '--help']);
  assert.deepEqual(rewrite('local/q', '--version'), ['--version']);
});

test('two different specs, or a global flag without its value, are usage errors', () => {
  assert.throws(() => rewrite('local/a', '--queue', 'local/b', 'size'), { code: 'USAGE', message: /two queues given/ });
  assert.throws(() => rewrite('local/a', 'size', '--conn-str'), { code: 'USAGE', message: /--conn-str needs a value/ });
});
