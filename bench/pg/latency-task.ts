/** The task of the latency bench: appends how long ago it was pushed (kwargs.t, ms) to kwargs.file. */
import { appendFileSync } from 'node:fs';
import { now } from './runner.js';

export default function latency({ t, file }: { t: number; file: string }): void {
  appendFileSync(file, `${now() - t}\n`);
}
