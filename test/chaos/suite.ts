/** The chaos test as a node:test case, for any backend (settings from the environment: settings.ts). */
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { tempHome } from '../helpers/cli.js';
import { runChaos } from './driver.js';
import { assertNothingLost, chaosSettings } from './settings.js';

/** A test case: the chaos run on the queue `prefix/chaos-XXXXXX`, with `backendEnv()` added for the CLI. */
export function chaosTest(label: string, prefix: string, backendEnv: () => NodeJS.ProcessEnv): void {
  const settings = chaosSettings();
  it(`${label}: ${settings.tasks} tasks through random faults, nothing lost (seed ${settings.seed})`, async (t) => {
    const home = tempHome();
    try {
      const summary = await runChaos({
        spec: `${prefix}/chaos-${randomBytes(3).toString('hex')}`,
        env: { ...home.env, ...backendEnv() },
        dir: home.home,
        ...settings,
        progress: (line) => t.diagnostic(line),
      });
      t.diagnostic(`summary: ${JSON.stringify(summary)}`);
      assertNothingLost(summary);
    } finally {
      home.cleanup();
    }
  });
}
