/**
 * What a detector under test reports: a sink that records every call, and a
 * JSON logger writing to memory whose lines can be searched by event.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';
import type { NoticeSink, NoticeSource, PreemptionNotice } from '../../src/signals/notices/notice.js';

export class RecordingSink implements NoticeSink {
  readonly calls: { source: NoticeSource; notice: PreemptionNotice | undefined }[] = [];
  readonly rebalances: string[] = [];

  preemption(source: NoticeSource, notice: PreemptionNotice | undefined): void {
    this.calls.push({ source, notice });
  }

  rebalance(detail: string): void {
    this.rebalances.push(detail);
  }

  /** The notice standing after the last call, if any. */
  get current(): PreemptionNotice | undefined {
    return this.calls.at(-1)?.notice;
  }
}

export interface LogRecord {
  level: string;
  event?: string;
  msg?: string;
  [field: string]: unknown;
}

export class MemoryLog {
  private text = '';
  readonly logger: Logger = createLogger({
    format: 'json',
    level: 'debug',
    destination: new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.text += chunk.toString();
        callback();
      },
    }),
  });

  get records(): LogRecord[] {
    return this.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogRecord);
  }

  /** The records of one event. */
  events(event: string): LogRecord[] {
    return this.records.filter((record) => record.event === event);
  }

  /** Everything written, for assertion messages. */
  toString(): string {
    return this.text;
  }
}
