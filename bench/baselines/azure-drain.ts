/**
 * The floor for draining an Azure Storage queue: the SDK alone, LOOPS loops
 * at once, each receiving 32 messages (Azure's most) and deleting them all
 * at once before its next receive. A loop ends when a receive finds nothing.
 * Nothing runs between the receive and the delete: this is the storage's
 * rate, what a worker of no-op tasks could reach. The connection string
 * comes from JOBQ_CONNECTION_STRING.
 *
 *   node dist/bench/baselines/azure-drain.js QUEUE LOOPS
 */
import { QueueClient } from '@azure/storage-queue';

const [name, loops] = process.argv.slice(2);
const connectionString = process.env['JOBQ_CONNECTION_STRING'];
if (!name || !loops || !connectionString) {
  throw new Error('usage: JOBQ_CONNECTION_STRING=… azure-drain.js QUEUE LOOPS');
}
const client = new QueueClient(connectionString, name);
const loop = async (): Promise<void> => {
  for (;;) {
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return;
    await Promise.all(receivedMessageItems.map((item) => client.deleteMessage(item.messageId, item.popReceipt)));
  }
};
await Promise.all(Array.from({ length: Number(loops) }, loop));
