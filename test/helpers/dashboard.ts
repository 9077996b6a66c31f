/** The dashboard command as a subprocess, on a free port. */
import assert from 'node:assert/strict';
import { startCli, type CliProcess } from './cli.js';

/** Starts `jobq SPEC dashboard` on a free port; resolves with it and the URL it printed. */
export async function startDashboard(
  spec: string,
  env: NodeJS.ProcessEnv,
  flags: readonly string[] = [],
): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli([spec, 'dashboard', '--port', '0', ...flags], { env });
  await cli.waitForOutput(/ at http:\/\/\S+/);
  const url = / at (http:\/\/\S+)/.exec(cli.stdout)?.[1];
  assert.ok(url, cli.output);
  return { cli, url };
}
