import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { withInterrupts } from '../cli/interrupts.js';
import { dashboardDefaults } from '../dashboard/options.js';

export default class DashboardCommand extends JobqCommand {
  static override summary = 'Serve a dashboard of the queue and its fleet in the browser (Ctrl-C to stop).';
  static override description =
    'Overview (depth, throughput, runtimes, workers over time, ETA), workers, task history and dead letters, updated every 2 s ' +
    'while a page is open. Listens on 127.0.0.1 unless --host says otherwise; any other address needs a token (given with ' +
    '--token or JOBQ_DASHBOARD_TOKEN, or generated and shown once in the URL), and then every request carries it. Write ' +
    'actions (requeue, purge) always need the token; --read-only refuses them.';
  static override examples = [
    '<%= config.bin %> local/demo dashboard',
    'JOBQ_DASHBOARD_TOKEN=$(openssl rand -hex 16) <%= config.bin %> myaccount/q dashboard --host 0.0.0.0 --port 9000',
  ];
  static override flags = {
    port: Flags.integer({ char: 'p', summary: 'The port to listen on (0: any free port).', default: dashboardDefaults.port, min: 0, max: 65_535 }),
    host: Flags.string({ summary: 'The address to listen on; anything but loopback needs a token.', default: dashboardDefaults.host }),
    token: Flags.string({
      summary: 'The token for write actions, and for every request off loopback (default: generated). Prefer the env variable: a flag shows in `ps`.',
      env: 'JOBQ_DASHBOARD_TOKEN',
    }),
    'read-only': Flags.boolean({ summary: 'Show no write actions, and refuse them.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DashboardCommand);
    this.makeLogger(flags);
    // Loaded here, so that no other command pays for the web server.
    const { startDashboard } = await import('../dashboard/server.js');
    await this.withQueue(flags, (queue) =>
      withInterrupts(async (signal) => {
        const dashboard = await startDashboard(queue, {
          host: flags.host,
          port: flags.port,
          readOnly: flags['read-only'],
          ...(flags.token !== undefined && { token: flags.token }),
        });
        try {
          const { options } = dashboard;
          const access = options.readOnly ? 'read-only' : options.tokenGenerated ? 'the URL carries the token for write actions' : 'write actions need the token';
          this.log(`dashboard of ${queue.name} at ${dashboard.url}`);
          this.logToStderr(`${options.loopback ? 'listening on loopback only' : `listening on ${options.host}: every request needs the token`}; ${access}. Ctrl-C to stop.`);
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        } finally {
          await dashboard.close();
        }
      }),
    );
  }
}
