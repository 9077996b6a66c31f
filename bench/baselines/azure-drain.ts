/**
 * The floor for draining an Azure Storage queue: the SDK alone, LOOPS loops
 * at once, each receiving 32 messages (Azure's most) and deleting them all
 * at once before its next receive. A loop ends when a receive finds nothing.
 * Nothing runs between the receive and the delete: this is the storage's
 * rate, what a worker of no-op tasks could reach. The connection string
 * comes from JOBQ_CONNECTION_STRING.
 *
 * With `history`, it also writes what jobq's history writes for each
 * succeeded task, with the table SDK alone: an attempt entity in the queue's
 * fleet table, gathered for a second (or 100 tasks) and submitted as one
 * transaction, off the drain loops, as src/backends/azure-fleet.ts does.
 * That is the floor of a worker that keeps the history.
 *
 *   node dist/bench/baselines/azure-drain.js QUEUE LOOPS [history]
 */
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { hostname } from 'node:os';
import { attemptKeys, fleetTableName } from '../../src/backends/azure-fleet.js';

const [name, loops, keep] = process.argv.slice(2);
const connectionString = process.env['JOBQ_CONNECTION_STRING'];
if (!name || !loops || !connectionString) {
  throw new Error('usage: JOBQ_CONNECTION_STRING=… azure-drain.js QUEUE LOOPS [history]');
}

/** The succeeded tasks' history entities, written a batch at a time behind the drain. */
class History {
  private readonly table = TableClient.fromConnectionString(connectionString!, fleetTableName(name!), { allowInsecureConnection: true });
  private readonly workerId = `floor-${process.pid}`;
  private readonly host = hostname();
  private pending: Array<{ taskId: string; command: string; startedAt: number; endedAt: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private counter = 0;

  async open(): Promise<void> {
    await this.table.createTable();
  }

  record(body: string, startedAt: number): void {
    const task = JSON.parse(body) as { id: string; kwargs: string };
    this.pending.push({ taskId: task.id, command: task.kwargs, startedAt, endedAt: Date.now() });
    if (this.pending.length >= 100) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), 1000);
  }

  flush(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return this.writing;
    const attempts: TransactionAction[] = batch.map((a) => {
      this.counter += 1;
      return [
        'create',
        {
          ...attemptKeys(a.endedAt, this.workerId, this.counter),
          taskId: a.taskId,
          kind: 'noop-task.js',
          command: a.command,
          workerId: this.workerId,
          host: this.host,
          pid: process.pid,
          startedAt: a.startedAt,
          endedAt: a.endedAt,
          durationMs: a.endedAt - a.startedAt,
          outcome: 'succeeded',
          exitCode: 0,
        },
      ];
    });
    this.writing = this.writing.then(() => this.table.submitTransaction(attempts));
    return this.writing;
  }
}

const history = keep === 'history' ? new History() : undefined;
await history?.open();
const client = new QueueClient(connectionString, name);
const loop = async (): Promise<void> => {
  for (;;) {
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return;
    const startedAt = Date.now();
    await Promise.all(receivedMessageItems.map((item) => client.deleteMessage(item.messageId, item.popReceipt)));
    for (const item of receivedMessageItems) history?.record(item.messageText, startedAt);
  }
};
await Promise.all(Array.from({ length: Number(loops) }, loop));
await history?.flush();
