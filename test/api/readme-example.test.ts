import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempHome } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);

/** The fenced block of `language` that follows `heading` in the README. */
function readmeBlock(readme: string, heading: string, language: string, skip = 0): string {
  const section = readme.slice(readme.indexOf(heading));
  const blocks = [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))];
  const block = blocks[skip]?.[1];
  assert.ok(block, `no ${language} block under ${heading}`);
  return block;
}

describe('the README', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('API example, copied into a file, runs as shown', async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const code = readmeBlock(readme, '## Programmatic API', 'js');
    const expected = readmeBlock(readme, '## Programmatic API', 'text');
    // Inside the package folder, `import 'jobq'` resolves to this package (self-reference).
    const dir = path.join(repoRoot, '.jobq-test');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `example-${process.pid}.mjs`);
    writeFileSync(file, code);
    const { stdout } = await run(process.execPath, [file], { env: { ...process.env, ...home.env }, timeout: 120_000 });
    const sorted = (text: string) => text.trim().split('\n').sort();
    assert.deepEqual(sorted(stdout), sorted(expected));
  });
});
