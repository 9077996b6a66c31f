import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertOneErrorLine, runCli, tempHome, type BadInputCase } from '../helpers/cli.js';

describe('bad input: one clear line, exit code 2, nothing enqueued', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = home.env;

  const cases: BadInputCase[] = [
    { name: 'a bad spec', args: ['nota/spec/at/all', 'size'], pattern: /invalid queue spec/ },
    { name: 'a bad account', args: ['Bad_Account/queue1', 'size'], pattern: /invalid queue spec/ },
    { name: 'a bad queue name', args: ['local/Bad_Name', 'push', '-c', 'true'], pattern: /invalid queue name/ },
    { name: 'a too short queue name', args: ['local/ab', 'push', '-c', 'true'], pattern: /invalid queue name/ },
    { name: 'a bad duration', args: ['local/good', 'worker', '--time-limit', '10x'], pattern: /invalid --time-limit "10x"/ },
    { name: 'a bad JSON line', args: ['local/good', 'push'], input: 'echo ok\n{"cmd": "x",\necho fine\n', pattern: /line 2: not valid JSON/ },
    {
      name: 'a JSON line whose env cannot take -e variables',
      args: ['local/good', 'push', '-e', 'A=1'],
      input: 'echo ok\n\n{}\n{"cmd": "x", "env": 5}\n',
      pattern: /line 4: "env" must be an object/,
    },
    { name: 'an unknown flag', args: ['local/good', 'push', '--frobnicate'], pattern: /frobnicate/ },
    { name: 'a bad -e pair', args: ['local/good', 'push', '-c', 'true', '-e', 'NOEQUALS'], pattern: /KEY=VALUE/ },
    { name: 'no queue at all', args: ['size'], pattern: /no queue given/ },
    { name: 'Service Bus', args: ['sb://ns/queue1', 'size'], pattern: /not supported yet/ },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const result = await runCli(testCase.args, { env, ...(testCase.input === undefined ? {} : { input: testCase.input }) });
      assertOneErrorLine(result, 2, testCase.pattern);
    });
  }

  it('enqueued nothing from any rejected push', async () => {
    const size = await runCli(['local/good', 'size'], { env });
    assert.equal(size.stdout.trim(), '0');
  });
});
