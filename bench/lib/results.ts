/**
 * What every bench script reports, in one shape: figures (a median over
 * rounds, with every sample), ratios of jobq's figures to the alternatives',
 * and the targets of the issue with whether they are met. Printed, and written
 * to bench/results/<machine>-<script>.json, where machine is
 * `<platform>-<cores>core` (such as `linux-2core`): stable for a machine, and
 * the same for machines that should give comparable figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, round } from '../../src/measure/stats.js';
import { repoRoot } from '../../test/helpers/paths.js';
import type { Usage } from './processes.js';

export interface Figure {
  /** A short stable key, such as `jobq-local`. */
  readonly key: string;
  /** What ran, for people: `jobq worker -n 4 (local/)`. */
  readonly label: string;
  /** The command that was measured, as a shell line. */
  readonly command: string;
  /** The unit of `value` and `samples`, such as `tasks/s`. */
  readonly unit: string;
  /** The median of the samples, unless the figure says otherwise (a p99). */
  readonly value: number;
  readonly samples: readonly number[];
}

export interface Ratio {
  /** `<key> / <key>` of the figures compared. */
  readonly of: string;
  readonly unit: string;
  readonly value: number;
}

export interface Target {
  readonly description: string;
  readonly measured: number;
  /** `>=` or `<=` the bound. */
  readonly rule: '>=' | '<=';
  readonly bound: number;
  readonly met: boolean;
}

export interface Machine {
  readonly name: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly platform: string;
  readonly node: string;
}

export interface BenchResult {
  readonly script: string;
  readonly title: string;
  readonly machine: Machine;
  /** The 1-, 5- and 15-minute load averages when the script started and when it ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly date: string;
  /** The commit measured, with `+dirty` when the working tree had changes. */
  readonly commit: string;
  readonly figures: readonly Figure[];
  readonly ratios: readonly Ratio[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

function machine(): Machine {
  const cpus = os.cpus();
  return {
    name: `${os.platform()}-${cpus.length}core`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    platform: os.platform(),
    node: process.version,
  };
}

function commit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  try {
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain') === '' ? '' : '+dirty');
  } catch {
    return 'unknown';
  }
}

/** A figure from its samples; the value is their median, or what `summarize` makes of them. */
export function figure(fields: Omit<Figure, 'value'>, summarize: (samples: readonly number[]) => number = median): Figure {
  return { ...fields, value: summarize(fields.samples) };
}

function find(figures: readonly Figure[], key: string): Figure {
  const found = figures.find((candidate) => candidate.key === key);
  if (!found) throw new Error(`no figure "${key}"`);
  return found;
}

/** `of` / `to` for each alternative `to`: how many times the alternative's figure jobq's is. */
export function ratios(figures: readonly Figure[], of: string, to: readonly string[]): Ratio[] {
  const subject = find(figures, of);
  return to.map((key) => ({ of: `${of} / ${key}`, unit: subject.unit, value: subject.value / find(figures, key).value }));
}

export function target(description: string, measured: number, rule: '>=' | '<=', bound: number): Target {
  return { description, measured, rule, bound, met: rule === '>=' ? measured >= bound : measured <= bound };
}

/** Collects a script's result; `finish` prints it and writes the JSON file. */
export class Report {
  private readonly start = os.loadavg();

  constructor(
    private readonly script: string,
    private readonly title: string,
  ) {
    const { name, cpus } = machine();
    console.log(`${title}\n(${name}, ${cpus} CPUs, load ${formatLoad(this.start)})\n`);
  }

  finish(parts: { figures: readonly Figure[]; ratios: readonly Ratio[]; targets: readonly Target[]; notes?: readonly string[] }): BenchResult {
    const result: BenchResult = {
      script: this.script,
      title: this.title,
      machine: machine(),
      loadAverage: { start: this.start, end: os.loadavg() },
      date: new Date().toISOString(),
      commit: commit(),
      figures: parts.figures.map((entry) => ({ ...entry, value: round(entry.value, 2), samples: entry.samples.map((s) => round(s, 2)) })),
      ratios: parts.ratios.map((entry) => ({ ...entry, value: round(entry.value, 2) })),
      targets: parts.targets.map((entry) => ({ ...entry, measured: round(entry.measured, 2), bound: round(entry.bound, 2) })),
      notes: parts.notes ?? [],
    };
    console.log(formatResult(result));
    const dir = path.join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${result.machine.name}-${this.script}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
    return result;
  }
}

function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(2)).join(' ');
}

/** The samples of a few rounds, or how many there were. */
function formatSamples(samples: readonly number[]): string {
  return samples.length <= 5 ? `[${samples.join(', ')}]` : `(${samples.length} samples)`;
}

function formatResult(result: BenchResult): string {
  const width = Math.max(...result.figures.map((entry) => entry.label.length));
  const lines = result.figures.map(
    (entry) => `  ${entry.label.padEnd(width)}  ${String(entry.value).padStart(9)} ${entry.unit}   ${formatSamples(entry.samples)}`,
  );
  lines.push('', 'ratios:');
  for (const ratio of result.ratios) lines.push(`  ${ratio.of}: ${ratio.value}x (${ratio.unit})`);
  if (result.targets.length > 0) lines.push('', 'targets:');
  for (const entry of result.targets) {
    lines.push(`  [${entry.met ? 'met ' : 'MISS'}] ${entry.description}: ${entry.measured} (${entry.rule} ${entry.bound})`);
  }
  for (const note of result.notes) lines.push(`note: ${note}`);
  lines.push(`load at the end: ${formatLoad(result.loadAverage.end)}`);
  return lines.join('\n');
}

/** Samples by figure key, collected over rounds. */
export class Samples {
  private readonly byKey = new Map<string, number[]>();

  add(key: string, value: number): void {
    this.byKey.set(key, [...(this.byKey.get(key) ?? []), value]);
  }

  /**
   * A run of `tasks` tasks (`timedWithCpu`): its tasks/s under `key`, and its
   * CPU per task under `key-cpu`, in ms times `cpuScale` (1000 for µs); with
   * `timedWithMainThreadCpu`, its main thread's CPU per task under `key-main`.
   */
  addRun(key: string, tasks: number, usage: Usage & { readonly mainThreadCpuMs?: number }, cpuScale = 1): void {
    this.add(key, tasks / (usage.ms / 1000));
    this.add(`${key}-cpu`, (usage.cpuMs * cpuScale) / tasks);
    if (usage.mainThreadCpuMs !== undefined) this.add(`${key}-main`, (usage.mainThreadCpuMs * cpuScale) / tasks);
  }

  get(key: string): number[] {
    return this.byKey.get(key) ?? [];
  }
}

/**
 * Runs each contender once per round, the order rotated every round, so
 * that a load that comes and goes on the machine falls on all of them alike.
 */
export async function interleaved(rounds: number, contenders: ReadonlyArray<(round: number) => Promise<void>>): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    for (let index = 0; index < contenders.length; index += 1) {
      const run = contenders[(index + round) % contenders.length];
      await run?.(round);
    }
    console.log(`round ${round + 1}/${rounds} done`);
  }
}
