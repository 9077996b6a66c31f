import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/processors/shell/line-splitter.js';

function split(chunks: string[], maxLineLength?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineLength);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

test('lines end at \\n, \\r\\n and a lone \\r; empty lines are kept', () => {
  assert.deepEqual(split(['a\nb\r\nc\rd\n\nlast']), ['a', 'b', 'c', 'd', '', 'last']);
});

test('a line end split across chunks counts once', () => {
  assert.deepEqual(split(['a\r', '\nb\r', 'c\r', '\r', '\n']), ['a', 'b', 'c']);
  assert.deepEqual(split(['pro', 'gress 1\r', 'progress 2\r', '\n', 'x']), ['progress 1', 'progress 2', 'x']);
});

test('end() flushes the last partial line without trailing carriage returns, once', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  splitter.push('partial\r');
  splitter.end();
  splitter.end();
  splitter.push('ignored\n');
  assert.deepEqual(lines, ['partial']);
  assert.deepEqual(split(['done\n']), ['done']);
  assert.deepEqual(split([]), []);
});

test('a line longer than the limit is passed on in pieces', () => {
  assert.deepEqual(split(['abcdefg', 'h\n'], 3), ['abc', 'def', 'gh']);
});
