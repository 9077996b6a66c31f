import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (tests run from dist/test/…). */
export const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..');
/** The CLI entry point, run as a subprocess by the tests. */
export const cliPath = path.join(repoRoot, 'bin', 'run.js');
/** Scripts and modules the tests run as tasks, and the reference's test vectors (`vectors/`). */
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
