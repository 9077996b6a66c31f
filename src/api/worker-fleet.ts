/**
 * A worker's records in the queue's store (SPEC §10): its live row, kept up
 * to date by a timer, and the pruning of the queue's history. A failure to
 * write them is logged once per kind (then at debug level) and never stops
 * the worker. Returns the cleanup steps, in the order they must run.
 */
import type { CleanupStep } from '../cleanup.js';
import { errorMessage } from '../errors.js';
import { HistoryPruner } from '../fleet/history-pruner.js';
import { WorkerRowReporter, type WorkerRowSource } from '../fleet/worker-row.js';
import type { Logger } from '../log/logger.js';
import type { FleetRecords } from '../queue/fleet-records.js';
import type { ResolvedFleetOptions } from '../worker/fleet-options.js';

export function startFleetRecords(
  fleet: FleetRecords,
  options: ResolvedFleetOptions,
  logger: Logger,
  row: WorkerRowSource,
): CleanupStep[] {
  const warned = new Set<string>();
  const failed = (kind: string, err: unknown): void => {
    const fields = { event: 'fleet_record_failed', kind };
    const message = `cannot write the queue's ${kind}: ${errorMessage(err)}`;
    if (warned.has(kind)) {
      logger.debug(fields, message);
      return;
    }
    warned.add(kind);
    logger.warn(fields, `${message}; the worker goes on without (said once)`);
  };
  const unsubscribe = fleet.onError((err, kind) => failed(kind, err));
  const steps: CleanupStep[] = [];
  // Buffered attempts (remote backends) are written while their failures are still logged.
  const lastWrites = [(): Promise<void> => fleet.flushHistory()];
  if (options.history && fleet.keepsHistory) {
    const { historyMaxAgeMs: maxAgeMs, historyMaxAttempts: maxAttempts } = options;
    const pruner = new HistoryPruner(fleet, { maxAgeMs, maxAttempts }, options.workerRowRetentionMs, (err) => failed('history', err));
    pruner.start();
    steps.push({ name: 'history pruning', run: () => pruner.stop() });
  }
  if (options.workerRowIntervalMs !== 0 && fleet.keepsWorkerRows) {
    const reporter = new WorkerRowReporter(fleet, row, (err) => failed('worker rows', err));
    reporter.start();
    lastWrites.push(() => reporter.stop());
  }
  // The last worker row and the history go at once: on a remote store each is a round trip or more, at the end of every run.
  steps.push(
    { name: 'worker row and history', run: () => Promise.all(lastWrites.map((write) => write())) },
    { name: 'fleet error listener', run: unsubscribe },
  );
  return steps;
}
