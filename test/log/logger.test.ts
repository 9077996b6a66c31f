/**
 * The log formats: `text` lines as jobq has always written them (time, level,
 * message), and output to a file descriptor that is written in batches yet
 * never lost when the process exits at once, never held for long, and kept
 * in order across stdout and stderr when they are one file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
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
const heldWritesModule = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'log', 'held-writes.js')).href;

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

  it('to stdout and stderr that are one file (2>&1): the lines keep the order they were written in', () => {
    // Lines alternate between the two in runs, within one turn and across timers; the process exits at once.
    const script = `
      const { HeldWrites } = await import(${JSON.stringify(heldWritesModule)});
      const out = new HeldWrites(1);
      const err = new HeldWrites(2);
      let n = 0;
      const burst = () => {
        for (let run = 0; run < 20; run += 1) {
          const to = run % 3 === 0 ? out : err;
          for (let i = 0; i < 1 + (run % 4); i += 1) to.write('line ' + n++ + '\\n');
        }
      };
      burst();
      await new Promise((resolve) => setTimeout(resolve, 20));
      burst();
      process.exit(0);
    `;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-held-'));
    try {
      const file = path.join(dir, 'both.log');
      const fd = openSync(file, 'a');
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      assert.equal(child.status, 0);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.ok(lines.length > 60, `${lines.length} lines`);
      assert.deepEqual(lines, lines.map((_, i) => `line ${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('to a file descriptor: a line goes out within moments while the process runs on', async () => {
    // The process stays up until killed: only the hold's own timer can write the line.
    const script = `
      const { createLogger } = await import(${JSON.stringify(loggerModule)});
      createLogger({ format: 'text' }).info('held-writes-ready');
      setInterval(() => {}, 60000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const seen = await new Promise<boolean>((resolve) => {
        let text = '';
        const deadline = setTimeout(() => resolve(false), 20_000);
        child.stderr.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('INFO: held-writes-ready\n')) {
            clearTimeout(deadline);
            resolve(true);
          }
        });
      });
      assert.ok(seen, 'the line was not written while the process ran');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
