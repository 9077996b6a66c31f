/**
 * The chaos test of test/chaos/ with a bigger N, run by hand on the local
 * backend; it writes its summary (tasks, faults injected, duplicates, time)
 * as JSON and exits 1 if anything was lost:
 *
 *   npm run build && CHAOS_TASKS=10000 CHAOS_FAULT_INTERVAL_MS=500 node dist/bench/chaos.js [OUT.json]
 *
 * OUT defaults to bench/results/chaos-local-N.json. The other settings
 * (CHAOS_SEED, CHAOS_WORKERS, CHAOS_SLOTS) are those of test/chaos/settings.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runChaos } from '../test/chaos/driver.js';
import { assertNothingLost, chaosSettings } from '../test/chaos/settings.js';
import { tempHome } from '../test/helpers/cli.js';
import { repoRoot } from '../test/helpers/paths.js';

const settings = chaosSettings();
const out = path.resolve(process.argv[2] ?? path.join(repoRoot, 'bench', 'results', `chaos-local-${settings.tasks}.json`));
const home = tempHome();
const logDir = path.join(home.home, 'logs');
mkdirSync(logDir);
console.log(`chaos: ${settings.tasks} tasks, a fault every ${settings.faultIntervalMs} ms on average, seed ${settings.seed}`);
try {
  const summary = await runChaos({
    spec: 'local/chaos-bench',
    env: home.env,
    dir: home.home,
    ...settings,
    logDir,
    progress: (line) => console.log(line),
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 2) + '\n');
  console.log(`summary written to ${out}`);
  assertNothingLost(summary);
  home.cleanup();
} catch (err) {
  console.error(`chaos run failed; worker logs kept in ${logDir}`);
  throw err;
}
