/**
 * The largest counts jobq takes from a user, on the command line and through
 * the API. Each is far above any real use and far below what would exhaust
 * the machine: a count that sizes something (slots, threads, messages) is
 * bounded by what one process can hold; a count that is only compared
 * (failures, deliveries, retries) by a round million. Out of range is a usage
 * error that names the bound (exit 2), never minutes of allocation and an
 * out-of-memory crash.
 */
export const countLimits = {
  /** Task slots in one worker process, each a child process or a thread (`worker -n`, `bench --concurrency`). */
  numWorkers: 4096,
  /** `worker --max-consecutive-failures`. */
  maxConsecutiveFailures: 1_000_000,
  /** `--max-deliveries` and JOBQ_MAX_DELIVERIES. */
  maxDeliveries: 1_000_000,
  /** Retries of a task (`dlq requeue --num-retries`). */
  numRetries: 1_000_000,
  /** Tasks or records shown at once (`peek -n`, `dlq list -n`): the local backend's peek limit. */
  shown: 1000,
  /** Dead letters moved back by one `dlq requeue -n`. */
  requeue: 1_000_000_000,
  /** Control messages one `downscale --nodes` sends. */
  downscaleNodes: 10_000,
  /** Tasks per run of `jobq bench --tasks`. */
  benchTasks: 1_000_000,
  /** Attempts kept per queue in its history (`--history-max-attempts`, JOBQ_HISTORY_MAX_ATTEMPTS). */
  historyMaxAttempts: 1_000_000_000,
  /** Runs of each kind and concurrency, `jobq bench --repeat`. */
  benchRepeats: 100,
  /** How long `jobq bench --seconds` may take: a day. */
  benchSeconds: 86_400,
} as const;
