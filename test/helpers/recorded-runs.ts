/**
 * A task that records its runs: `bash SCRIPT NUMBER "$JOBQ_TEST_WORKER"
 * SECONDS` waits for SECONDS, then appends "NUMBER WORKER TASK-ID" to a
 * results file; a run that was stopped before its end writes nothing. WORKER
 * is the JOBQ_TEST_WORKER of the worker that ran it (tasks inherit the
 * worker's environment): give each worker its own, since over a long run
 * process ids are reused.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRun } from './duplicates.js';

export interface RecordedTasks {
  /** The script; its path is on every task's command line (to find what is left of them). */
  readonly script: string;
  readonly results: string;
  /** The command of task `number`, running for `seconds`. */
  command(number: number, seconds: number): string;
  /** Every completed run so far. */
  runs(): Array<TaskRun & { number: number }>;
}

export function recordedTasks(dir: string): RecordedTasks {
  const results = path.join(dir, 'results.txt');
  const script = path.join(dir, 'recorded-task.sh');
  writeFileSync(results, '');
  writeFileSync(script, `#!/bin/bash\nsleep "$3"\necho "$1 $2 $JOBQ_TASK_ID" >> ${results}\n`);
  chmodSync(script, 0o755);
  return {
    script,
    results,
    command: (number, seconds) => `bash ${script} ${number} "$JOBQ_TEST_WORKER" ${seconds}`,
    runs: () => {
      const runs: Array<TaskRun & { number: number }> = [];
      for (const line of readFileSync(results, 'utf8').split('\n')) {
        const [number, worker, taskId] = line.split(' ');
        if (number !== undefined && worker !== undefined && taskId !== undefined) {
          runs.push({ number: Number(number), worker, taskId });
        }
      }
      return runs;
    },
  };
}
