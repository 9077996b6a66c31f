/**
 * Cleanup that runs every step even when one fails (STYLE practice 4): steps
 * run in order, each awaited; failures are collected and thrown together as
 * one AggregateError once every step has run.
 */

/** A named step, so that a failure says which part could not be cleaned up. */
export interface CleanupStep {
  readonly name: string;
  run(): unknown;
}

export async function runCleanups(steps: readonly CleanupStep[], what = 'cleanup'): Promise<void> {
  const failures: Error[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      failures.push(new Error(`${step.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    }
  }
  if (failures.length > 0) {
    throw new AggregateError(failures, `${what} failed: ${failures.map((failure) => failure.message).join('; ')}`);
  }
}
