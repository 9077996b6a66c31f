/**
 * A real Azurite server for a test file: its queue service and its table
 * service (task history and worker rows), each in-memory on a free loopback
 * port, silent. Each test file starts its own (Azurite's in-memory store slows
 * down after thousands of deletes) and stops it in an `after` hook.
 *
 * Azurite never outlives the test process: `stop` kills it and waits for the
 * exit, and a preload in the child exits it when its stdin closes, which the
 * OS does when the test process dies in any way, SIGKILL included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cpuSecondsFromStat } from './proc-cpu.js';

export interface Azurite {
  /** A full development connection string with this server's QueueEndpoint and TableEndpoint. */
  readonly connectionString: string;
  /** The queue service's port. */
  readonly port: number;
  readonly tablePort: number;
  /** Kills the server and waits for it to exit (idempotent). */
  stop(): Promise<void>;
  /** Stops the server and starts a new one on the same port, with no queues or messages (unless persistent). */
  restart(): Promise<void>;
  /** Stops the server (persistent: gracefully, so that it saves everything) and waits for it to be gone. */
  down(): Promise<void>;
  /** Starts the server again on the same port after `down`. */
  up(): Promise<void>;
  /** The CPU time (user + system) its running processes have used, s, from /proc (Linux; NaN elsewhere): the bench's share of the cores. */
  cpuSeconds(): number;
}

export interface AzuriteOptions {
  /**
   * Keep queues and messages on disk, so that they survive `down`/`up` (a
   * server outage), instead of in memory (default false).
   */
  persistent?: boolean;
}

/** Azurite's well-known development account (public, documented by Microsoft). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Generous: a loaded 2-core machine can take seconds to load Azurite. */
const START_TIMEOUT_MS = 60_000;
const START_ATTEMPTS = 3;
/** How long a persistent server may take to save its data on SIGTERM. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

type Service = 'queue' | 'table';
const entryPoints: Record<Service, string> = {
  queue: createRequire(import.meta.url).resolve('azurite/dist/src/queue/main.js'),
  table: createRequire(import.meta.url).resolve('azurite/dist/src/table/main.js'),
};
const exitWithStdin = 'data:text/javascript,process.stdin.on("end",()=>process.exit(0));process.stdin.resume();';

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const persistent = options.persistent ?? false;
  // Azurite creates its workspace folder even in memory; keep it out of the repo.
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'jobq-azurite-'));
  let queue: { child: ChildProcess; port: number };
  let table: { child: ChildProcess; port: number };
  try {
    queue = await launchOnFreePort('queue', workspace, persistent);
    table = await launchOnFreePort('table', workspace, persistent).catch(async (err: unknown) => {
      await kill(queue.child);
      throw err;
    });
  } catch (err) {
    await rm(workspace, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const server: Azurite = {
    port: queue.port,
    tablePort: table.port,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `QueueEndpoint=http://127.0.0.1:${queue.port}/${ACCOUNT};TableEndpoint=http://127.0.0.1:${table.port}/${ACCOUNT};`,
    stop() {
      stopping ??= Promise.all([kill(queue.child), kill(table.child)]).then(() => rm(workspace, { recursive: true, force: true }));
      return stopping;
    },
    async restart() {
      await server.down();
      await server.up();
    },
    async down() {
      if (persistent) await Promise.all([shutDown(queue.child), shutDown(table.child)]);
      await Promise.all([kill(queue.child), kill(table.child)]);
    },
    async up() {
      queue.child = await launch('queue', queue.port, workspace, persistent);
      table.child = await launch('table', table.port, workspace, persistent);
    },
    cpuSeconds() {
      return cpuSecondsFromStat(`/proc/${queue.child.pid}/stat`) + cpuSecondsFromStat(`/proc/${table.child.pid}/stat`);
    },
  };
  return server;
}

/** Starts a service on a free port, trying again when another process took the port first. */
async function launchOnFreePort(service: Service, workspace: string, persistent: boolean): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return { child: await launch(service, port, workspace, persistent), port };
    } catch (err) {
      // Another process may have taken the port between our probe and Azurite's listen.
      if (attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** Asks a persistent server to close (it saves its database) and waits until it says it has. */
async function shutDown(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null || child.stdout === null) return;
  const stdout = child.stdout;
  const closed = new Promise<void>((resolve) => {
    const onData = (chunk: string): void => {
      if (chunk.includes('successfully closed')) resolve();
    };
    stdout.setEncoding('utf8').on('data', onData);
    child.once('exit', () => resolve());
  });
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS)))]);
  clearTimeout(timer);
}

/**
 * Starts Azurite on `port` and resolves once the port accepts connections.
 * Persistent: its data lives in `workspace`, and its stdout is read for the
 * line that says a shutdown is complete.
 */
async function launch(service: Service, port: number, workspace: string, persistent: boolean): Promise<ChildProcess> {
  const args = [
    '--import',
    exitWithStdin,
    entryPoints[service],
    `--${service}Host`,
    '127.0.0.1',
    `--${service}Port`,
    String(port),
    ...(persistent ? ['--location', workspace] : ['--inMemoryPersistence']),
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--disableTelemetry',
  ];
  const child = spawn(process.execPath, args, { cwd: workspace, stdio: ['pipe', persistent ? 'pipe' : 'ignore', 'pipe'] });
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      await kill(child);
      const why = exited ? `exited with code ${child.exitCode}` : `did not listen within ${START_TIMEOUT_MS} ms`;
      throw new Error(`Azurite on port ${port} ${why}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

/**
 * SIGKILLs Azurite and waits for the exit. A persistent server that must keep
 * its data is asked to close first (`down`); `stop` discards the data anyway.
 */
async function kill(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** A port that was free a moment ago, found by listening on port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port from listen(0)'));
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
