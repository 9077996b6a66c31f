/**
 * A worker's start-up: `jobq local/bench worker` on an empty queue, from
 * spawn to exit, plain and with `--metrics-port 0` (prom-client loaded and
 * a server started), and, when JOBQ_BASELINE_CLI names another checkout's
 * bin/run.js (a build before the metrics existed), that one plain: the
 * target is the plain worker within 5% of the baseline, since the metric
 * libraries load only when asked for. Interleaved rounds.
 *
 *   JOBQ_BASELINE_CLI=/tmp/jobq-base/bin/run.js node dist/bench/startup.js [--rounds 15]
 */
import { commandLine, integerOptions, jobq, Scratch } from './lib/jobq.js';
import { timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const { rounds } = integerOptions({ rounds: 15 });
const baselineCli = process.env['JOBQ_BASELINE_CLI'];
const report = new Report('startup', 'jobq worker start-up on an empty queue: plain, with --metrics-port, and a baseline build');
const scratch = new Scratch();
const logFile = scratch.path('output.log');
const samples = new Samples();
const plain = jobq('local/bench', 'worker');
const withMetrics = jobq('local/bench', 'worker', '--metrics-port', '0');
const baseline: [string, string[]] | undefined = baselineCli === undefined ? undefined : [process.execPath, [baselineCli, 'local/bench', 'worker']];

try {
  await interleaved(rounds, [
    async () => samples.add('plain', (await timed(...plain, { env: scratch.freshHome(), logFile })) / 1000),
    async () => samples.add('metrics', (await timed(...withMetrics, { env: scratch.freshHome(), logFile })) / 1000),
    async () => {
      if (baseline) samples.add('baseline', (await timed(...baseline, { env: scratch.freshHome(), logFile })) / 1000);
    },
  ]);
} finally {
  scratch.cleanup();
}

const figures = [
  figure({ key: 'plain', label: 'jobq worker (no metrics flags)', command: commandLine(...plain), unit: 's', samples: samples.get('plain') }),
  figure({ key: 'metrics', label: 'jobq worker --metrics-port 0', command: commandLine(...withMetrics), unit: 's', samples: samples.get('metrics') }),
  ...(baseline
    ? [figure({ key: 'baseline', label: 'the baseline build, plain', command: `node ${baselineCli} local/bench worker`, unit: 's', samples: samples.get('baseline') })]
    : []),
];
const all = ratios(figures, 'plain', baseline ? ['metrics', 'baseline'] : ['metrics']);
const plainOverBaseline = all.find((r) => r.of === 'plain / baseline')?.value;
report.finish({
  figures,
  ratios: all,
  targets: plainOverBaseline === undefined ? [] : [target('plain worker start-up, times the baseline build\'s', plainOverBaseline, '<=', 1.05)],
  notes: [`${rounds} rounds; figures are medians${baseline ? '' : '; no JOBQ_BASELINE_CLI given, so no baseline'}`],
});
