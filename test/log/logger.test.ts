/**
 * The log formats: `text` lines as jobq has always written them (time, level,
 * message), and output to a file descriptor that is written once per
 * event-loop turn yet never lost when the process exits at once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { createLogger } from '../../src/log/logger.js';
import { repoRoot } from '../helpers/paths.js';

/** A logger writing to memory, and what it wrote. */
function memoryLogger(format: 'text' | 'json'): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ format, level: 'debug', destination });
  return { logger, lines: () => text.split('\n').filter((line) => line !== '') };
}

const loggerModule = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'log', 'logger.js')).href;

describe('logger', () => {
  it('text: [time with ms] LEVEL: message, the fields left out', () => {
    const { logger, lines } = memoryLogger('text');
    logger.info({ event: 'task_start', task_id: 'abc' }, 'task abc started');
    logger.warn('two\nlines');
    logger.debug({ event: 'x' });
    assert.deepEqual(
      lines().map((line) => line.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] /, '[time] ')),
      ['[time] INFO: task abc started', '[time] WARN: two', 'lines', '[time] DEBUG:'],
    );
  });

  it('json: one object a line with the fields and the level name', () => {
    const { logger, lines } = memoryLogger('json');
    logger.info({ event: 'task_success', task_id: 'abc' }, 'task abc succeeded');
    const record = JSON.parse(lines()[0] ?? '') as Record<string, unknown>;
    assert.equal(record['level'], 'info');
    assert.equal(record['event'], 'task_success');
    assert.equal(record['task_id'], 'abc');
    assert.equal(record['msg'], 'task abc succeeded');
  });

  it('to a file descriptor: the lines of a process that exits at once are all written, in order', () => {
    const script = `
      const { createLogger } = await import(${JSON.stringify(loggerModule)});
      const logger = createLogger({ format: 'text' });
      for (let i = 0; i < 1000; i += 1) logger.info('line ' + i);
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stderr.trim().split('\n');
    assert.equal(lines.length, 1000);
    lines.forEach((line, i) => assert.match(line, new RegExp(`INFO: line ${i}$`)));
  });
});
