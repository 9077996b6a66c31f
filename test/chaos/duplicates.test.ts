/** The duplicate accounting the chaos test relies on: evidence explains a duplicate, nothing else does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountDuplicates, type WorkerLog } from '../helpers/duplicates.js';

const line = (event: string, taskId: string, fields: Record<string, string> = {}): string =>
  JSON.stringify({ event, task_id: taskId, ...fields });
const worker = (id: string, killed: boolean, ...lines: string[]): WorkerLog => ({ id, killed, slots: 2, log: lines.join('\n') });

test('a task in flight on a SIGKILLed worker may run again', () => {
  const report = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker('a', true, line('task_start', 't0'), line('task_success', 't0'), line('task_start', 't1')),
      worker('b', false, line('task_start', 't1'), line('task_success', 't1')),
    ],
  );
  assert.deepEqual([report.total, report.sigkill, report.unexplained], [1, 1, 0]);
});

test('a task that had ended on a SIGKILLed worker may run again, also while its slot ran the next one', () => {
  const report = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker('a', true, line('task_start', 't1'), line('task_start', 't2'), line('task_success', 't1'), line('task_start', 't3')),
      worker('b', false, line('task_start', 't1'), line('task_success', 't1')),
    ],
  );
  assert.deepEqual([report.total, report.sigkill, report.unexplained], [1, 1, 0]);
});

test("a run that a SIGKILLed worker's log does not show is explained: its last lines died with it", () => {
  const report = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [worker('a', true, line('task_start', 't0')), worker('b', false, line('task_start', 't1'), line('task_success', 't1'))],
  );
  assert.deepEqual([report.sigkill, report.unexplained], [1, 0]);
  const alive = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [worker('a', false, line('task_start', 't0')), worker('b', false, line('task_start', 't1'), line('task_success', 't1'))],
  );
  assert.equal(alive.unexplained, 1, 'a worker that was not killed wrote all its lines');
});

test('a task that ran twice with no evidence is unexplained', () => {
  const report = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker('a', false, line('task_start', 't1'), line('task_success', 't1')),
      worker('b', false, line('task_start', 't1'), line('task_success', 't1')),
    ],
  );
  assert.deepEqual([report.unexplained, report.unexplainedTasks], [1, ['t1']]);
});

test('a lost lease explains a duplicate; a stop explains one only for a result its worker did not complete', () => {
  const lost = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker(
        'a',
        false,
        line('task_start', 't1'),
        line('task_lock_lost', 't1', { stage: 'running' }),
        line('task_lock_lost', 't1', { stage: 'ended' }),
      ),
      worker('b', false),
    ],
  );
  assert.deepEqual([lost.leaseLost, lost.unexplained], [1, 0], 'one attempt ended unsettled; the stage tells the two lines apart');
  const raced = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker('a', false, line('task_start', 't1'), line('task_canceled', 't1')),
      worker('b', false, line('task_start', 't1'), line('task_success', 't1')),
    ],
  );
  assert.deepEqual([raced.stopRacedEnd, raced.unexplained], [1, 0]);
  const stoppedThenCompleted = accountDuplicates(
    [{ taskId: 't1', worker: 'a' }, { taskId: 't1', worker: 'b' }],
    [
      worker('a', false, line('task_start', 't1'), line('task_canceled', 't1'), line('task_start', 't1'), line('task_success', 't1')),
      worker('b', false, line('task_start', 't1'), line('task_success', 't1')),
    ],
  );
  assert.equal(stoppedThenCompleted.unexplained, 1, 'the stopped run wrote nothing: its worker completed the one result it wrote');
});
