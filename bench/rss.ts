/**
 * Memory side by side: 32 tasks of `sleep 5` running at once, through jobq's
 * worker (-n 32), GNU parallel (-j32) and xargs (-P32). Every 100 ms the RSS
 * of the tool's own process and the PSS of its whole process tree (the tasks
 * included; see treeMemory) are read from /proc; the figures are the peaks,
 * in MB (10^6 bytes). Linux only.
 *
 *   node dist/bench/rss.js [--rounds 3]
 */
import { commandLine, integerOptions, jobq, lines, Scratch } from './lib/jobq.js';
import { ensureCommand, sampleTreeMemory, start, timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target, type Figure } from './lib/results.js';

const { rounds } = integerOptions({ rounds: 3 });
const slots = 32;
const report = new Report('rss', `peak memory with ${slots} tasks of \`sleep 5\` running: jobq vs GNU parallel vs xargs`);
const scratch = new Scratch();
const input = scratch.file('sleeps.txt', lines(slots, () => 'sleep 5'));
const logFile = scratch.path('output.log');
const hasParallel = ensureCommand('parallel', 'parallel');
const samples = new Samples();
const megabytes = (bytes: number) => bytes / 1e6;

const push = jobq('local/bench', 'push');
const worker = jobq('local/bench', 'worker', '-n', String(slots));
const parallel = ['parallel', [`-j${slots}`]] as const;
const xargs = ['xargs', ['-d', '\\n', '-n1', `-P${slots}`, 'bash', '-c']] as const;

/** Runs a tool to its end, sampling its tree, and records the peaks under `key`. */
async function measure(key: string, argv: readonly [string, readonly string[]], options: { env?: NodeJS.ProcessEnv; stdin?: string }): Promise<void> {
  const started = start(argv[0], argv[1], { ...options, logFile });
  const pid = started.child.pid;
  if (pid === undefined) throw new Error(`${argv[0]} did not start`);
  const sampler = sampleTreeMemory(pid);
  try {
    await started.done;
  } finally {
    const peak = await sampler.stop();
    samples.add(`${key}-own`, megabytes(peak.ownRss));
    samples.add(`${key}-tree`, megabytes(peak.treePss));
  }
}

try {
  await interleaved(rounds, [
    async () => {
      const env = scratch.freshHome();
      await timed(...push, { env, stdin: input, logFile });
      await measure('jobq', worker, { env });
    },
    async () => {
      if (hasParallel) await measure('parallel', parallel, { env: { ...process.env, SHELL: '/bin/bash' }, stdin: input });
    },
    () => measure('xargs', xargs, { stdin: input }),
  ]);
} finally {
  scratch.cleanup();
}

const tools: Array<{ key: string; label: string; command: string }> = [
  { key: 'jobq', label: `jobq worker -n ${slots}`, command: commandLine(...worker) },
  ...(hasParallel ? [{ key: 'parallel', label: `GNU parallel -j${slots}`, command: `SHELL=/bin/bash ${commandLine(...parallel)} < sleeps.txt` }] : []),
  { key: 'xargs', label: `xargs -P${slots} bash -c`, command: `${commandLine(...xargs)} < sleeps.txt` },
];
const figures: Figure[] = tools.flatMap(({ key, label, command }) => [
  figure({ key: `${key}-own`, label: `${label}: its own process (RSS)`, command, unit: 'MB', samples: samples.get(`${key}-own`) }),
  figure({ key: `${key}-tree`, label: `${label}: process tree (PSS)`, command, unit: 'MB', samples: samples.get(`${key}-tree`) }),
]);
const others = tools.slice(1).map((tool) => tool.key);
report.finish({
  figures,
  ratios: [
    ...ratios(figures, 'jobq-own', others.map((key) => `${key}-own`)),
    ...ratios(figures, 'jobq-tree', others.map((key) => `${key}-tree`)),
  ],
  targets: [target(`jobq worker -n ${slots}, its own process (RSS), MB`, figures[0]?.value ?? Number.NaN, '<=', 150)],
  notes: [`${rounds} rounds; figures are medians of the peaks; a tree's PSS counts each shared page once`],
});
