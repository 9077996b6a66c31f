/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`): the functions
 * and files with the most self time, and the functions with the most
 * inclusive time (their own plus their callees'), as shares of the samples.
 *
 *   node --cpu-prof --cpu-prof-dir=prof bin/run.js local/q worker -n 4
 *   node dist/bench/profile-summary.js prof/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Paths shortened to what tells them apart: `nm/piscina/…`, `dist/src/…`, `node:…`. */
function where(url: string): string {
  return url.replace(/^.*\/node_modules\//, 'nm/').replace(/^file:\/\/.*?\/(dist|bin)\//, '$1/');
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
}

function fileKey(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  return url ? where(url).replace(/^nm\/((?:@[^/]+\/)?[^/]+)\/.*$/, 'nm/$1') : functionName;
}

function add(totals: Map<string, number>, key: string, micros: number): void {
  totals.set(key, (totals.get(key) ?? 0) + micros);
}

function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfById = new Map<number, number>();
  profile.samples.forEach((id, index) => selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...selfById.values()].reduce((sum, micros) => sum + micros, 0);
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, micros] of selfById) {
    const node = byId.get(id);
    if (!node) continue;
    add(self, functionKey(node), micros);
    add(files, fileKey(node), micros);
    // Each function once per sample, however often it recurs on the stack.
    const seen = new Set<string>();
    for (let current: ProfileNode | undefined = node; current; current = byId.get(parent.get(current.id) ?? -1)) {
      const key = functionKey(current);
      if (!seen.has(key)) add(inclusive, key, micros);
      seen.add(key);
    }
  }
  const table = (title: string, totals: Map<string, number>) => [
    `--- ${title}`,
    ...[...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => `${(micros / 1000).toFixed(0).padStart(8)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`),
  ];
  return [
    `${(total / 1000).toFixed(0)} ms sampled`,
    ...table('self time by function', self),
    ...table('self time by file or package', files),
    ...table('inclusive time by function', inclusive),
  ].join('\n');
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
if (positionals.length === 0) throw new Error('usage: profile-summary.js PROFILE.cpuprofile… [--top 25]');
for (const file of positionals) {
  console.log(`${file}\n${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top))}\n`);
}
