/**
 * The floor for an enqueue to Azure Storage: every line of a file sent as a
 * message with the SDK alone, CONCURRENCY sends in flight (jobq push has
 * 10 batches x 16 sends). The connection string comes from
 * JOBQ_CONNECTION_STRING.
 *
 *   node dist/bench/baselines/azure-send.js INPUT QUEUE CONCURRENCY
 */
import { QueueClient } from '@azure/storage-queue';
import { readFileSync } from 'node:fs';

const [input, name, concurrency] = process.argv.slice(2);
const connectionString = process.env['JOBQ_CONNECTION_STRING'];
if (!input || !name || !concurrency || !connectionString) {
  throw new Error('usage: JOBQ_CONNECTION_STRING=… azure-send.js INPUT QUEUE CONCURRENCY');
}
const bodies = readFileSync(input, 'utf8').split('\n').filter((line) => line !== '');
const client = new QueueClient(connectionString, name);
await client.createIfNotExists();
let next = 0;
const lane = async (): Promise<void> => {
  while (next < bodies.length) {
    const body = bodies[next++] as string;
    await client.sendMessage(body, { messageTimeToLive: -1 });
  }
};
await Promise.all(Array.from({ length: Number(concurrency) }, lane));
