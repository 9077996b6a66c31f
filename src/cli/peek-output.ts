/**
 * What `peek` prints. `--json` prints what the reference prints: the message
 * bodies as one JSON array, laid out as Python's `json.dumps(bodies,
 * indent=2)` lays it out, so scripts written for ai4s-jobq read it unchanged.
 * `--json-lines` prints jobq's own form, one object per task a line; the
 * default is one line of text per task.
 */
import type { PeekedTask } from '../queue/job-queue.js';
import { JsonReadError, readOrderedJson, type JsonNode } from '../task/ordered-json.js';
import { pythonDumpsNode } from '../task/python-json.js';

/** The reference's `peek --json`. A body that is not JSON is shown as a string. */
export function peekJson(peeked: readonly PeekedTask[]): string {
  const items = peeked.map(({ message }): JsonNode => {
    try {
      return readOrderedJson(message.body);
    } catch (err) {
      if (err instanceof JsonReadError) return { kind: 'string', value: message.body };
      throw err;
    }
  });
  return pythonDumpsNode({ kind: 'array', items }, 2);
}

/** jobq's `peek --json-lines`: one JSON object per task. */
export function peekJsonLines(peeked: readonly PeekedTask[]): string[] {
  return peeked.map(({ message, task, invalid }) =>
    JSON.stringify(
      task
        ? { id: task.id, num_retries: task.numRetries, reply_requested: task.replyRequested, kwargs: task.kwargs, deliveries: message.deliveries }
        : { invalid: invalid.message, body: message.body, deliveries: message.deliveries },
    ),
  );
}

/** One line of text per task: id, retries and kwargs. */
export function peekText(peeked: readonly PeekedTask[]): string[] {
  return peeked.map(({ message, task, invalid }) =>
    task ? `${task.id}  retries=${task.numRetries}  ${task.kwargsJson}` : `(invalid: ${invalid.message})  ${message.body}`,
  );
}
