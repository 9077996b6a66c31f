/**
 * The signal broker's state machine, without processes: every row of SPEC
 * §6.1, the escalation of repeated interrupts, and stop sources that compete
 * (which exit code wins, a time limit during a brace, a withdrawn preemption
 * racing the brace timer). The brace timer runs on node:test's mock clock.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { exitCodeForStop } from '../../src/exit-codes.js';
import { SignalBroker, type BrokerPhase, type StopSource } from '../../src/signals/broker.js';
import type { NoticeSource } from '../../src/signals/notices/notice.js';

const BRACE_MS = 120_000;

/** A broker and what it asked of its listener, in order. */
function subject(): { broker: SignalBroker; calls: string[]; phases: BrokerPhase[] } {
  const broker = new SignalBroker({ preemptionTimeoutMs: BRACE_MS });
  const calls: string[] = [];
  const phases: BrokerPhase[] = [];
  broker.subscribe({
    cancelRunning: () => calls.push('cancel'),
    killRunning: () => calls.push('kill'),
    resumed: () => calls.push('resumed'),
    changed: (phase) => phases.push(phase),
  });
  return { broker, calls, phases };
}

/** Whether whenRunnable() has settled, and with what, after the current microtasks. */
async function runnable(broker: SignalBroker): Promise<boolean | 'pending'> {
  return Promise.race([broker.whenRunnable(), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

/** A preemption notice from `source` (Azure by default), with a deadline if given. */
function announce(broker: SignalBroker, source: NoticeSource = 'azure', deadline?: Date): void {
  broker.preemption(source, { source, deadline, detail: `${source} says the machine goes` });
}

function withdraw(broker: SignalBroker, source: NoticeSource = 'azure'): void {
  broker.preemption(source, undefined);
}

function exitCode(broker: SignalBroker): number {
  return exitCodeForStop(broker.stopSource);
}

describe('signal broker (SPEC §6.1)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('starts running: tasks may be leased, no stop source', async () => {
    const { broker } = subject();
    assert.equal(broker.phase, 'running');
    assert.equal(await runnable(broker), true);
    assert.equal(broker.stopSource, undefined);
  });

  describe('one source, each row of the table', () => {
    it('SIGTERM: no new tasks, running ones get SIGTERM, brace; resumes after the preemption timeout', async () => {
      const { broker, calls, phases } = subject();
      broker.request('SIGTERM');
      assert.equal(broker.phase, 'braced');
      assert.deepEqual(calls, ['cancel']);
      assert.equal(await runnable(broker), 'pending', 'no new task while braced');
      const waiting = broker.whenRunnable();
      mock.timers.tick(BRACE_MS - 1);
      assert.equal(broker.phase, 'braced', 'still braced just before the timeout');
      mock.timers.tick(1);
      assert.equal(broker.phase, 'running');
      assert.equal(await waiting, true, 'a slot waiting through the brace goes on');
      assert.deepEqual(calls, ['cancel', 'resumed']);
      assert.deepEqual(phases, ['braced', 'running']);
      assert.equal(broker.stopSource, undefined, 'a brace is not a final stop');
    });

    it('an announced preemption: brace like SIGTERM; work resumes as soon as the event is gone', async () => {
      const { broker, calls } = subject();
      announce(broker);
      assert.equal(broker.phase, 'braced');
      assert.deepEqual(calls, ['cancel']);
      withdraw(broker);
      assert.equal(broker.phase, 'running', 'no timer to wait out for a brace the event alone started');
      assert.deepEqual(calls, ['cancel', 'resumed']);
    });

    const finalStops: Array<{ source: StopSource; cancels: boolean; exitCode: number }> = [
      { source: 'SIGINT', cancels: true, exitCode: 130 },
      { source: 'SIGUSR1', cancels: false, exitCode: 0 },
      { source: 'SIGUSR2', cancels: true, exitCode: 0 },
      { source: 'time-limit', cancels: true, exitCode: 0 },
      { source: 'control-drain', cancels: false, exitCode: 0 },
      { source: 'control-stop', cancels: true, exitCode: 0 },
      { source: 'max-failures', cancels: true, exitCode: 1 },
      { source: 'abort', cancels: true, exitCode: 0 },
    ];
    for (const { source, cancels, exitCode: expected } of finalStops) {
      it(`${source}: no new tasks, running ones ${cancels ? 'get SIGTERM' : 'finish'}, exit ${expected}`, async () => {
        const { broker, calls } = subject();
        broker.request(source);
        assert.equal(broker.phase, 'stopping');
        assert.deepEqual(calls, cancels ? ['cancel'] : []);
        assert.equal(await runnable(broker), false);
        assert.equal(broker.stopSource, source);
        assert.equal(exitCode(broker), expected);
        mock.timers.tick(BRACE_MS * 2);
        assert.equal(broker.phase, 'stopping', 'there is no way back from a stop');
      });
    }

    it('a second SIGTERM during a brace skips it: stop for good, exit 143', async () => {
      const { broker, calls } = subject();
      broker.request('SIGTERM');
      broker.request('SIGTERM');
      assert.equal(broker.phase, 'stopping');
      assert.equal(exitCode(broker), 143);
      assert.deepEqual(calls, ['cancel', 'cancel']);
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'stopping', 'the brace timer no longer resumes');
    });

    it('a second SIGINT during a stop: stop, exit 130; a third interrupt SIGKILLs the running tasks, once', () => {
      const { broker, calls } = subject();
      broker.request('SIGINT');
      broker.request('SIGINT');
      assert.equal(exitCode(broker), 130);
      assert.deepEqual(calls, ['cancel', 'cancel']);
      broker.request('SIGINT');
      assert.deepEqual(calls, ['cancel', 'cancel', 'kill']);
      broker.request('SIGTERM');
      assert.deepEqual(calls, ['cancel', 'cancel', 'kill'], 'a fourth kills nothing new');
      assert.equal(exitCode(broker), 130, 'the first interrupt decides among interrupts');
    });
  });

  describe('competing sources', () => {
    it('SIGUSR1 (drain) then SIGTERM: the running tasks now get SIGTERM, and the interrupt decides the exit code', () => {
      const { broker, calls } = subject();
      broker.request('SIGUSR1');
      assert.deepEqual(calls, []);
      broker.request('SIGTERM');
      assert.deepEqual(calls, ['cancel']);
      assert.equal(broker.stopSource, 'SIGTERM');
      assert.equal(exitCode(broker), 143);
    });

    it('too many failures, then SIGINT: the interrupt wins (exit 130); SIGINT, then too many failures: still 130', () => {
      const first = subject();
      first.broker.request('max-failures');
      first.broker.request('SIGINT');
      assert.equal(exitCode(first.broker), 130);
      const second = subject();
      second.broker.request('SIGINT');
      second.broker.request('max-failures');
      assert.equal(exitCode(second.broker), 130);
    });

    it('two graceful sources: the first decides (time limit, then drain: exit 0 as time-limit)', () => {
      const { broker } = subject();
      broker.request('time-limit');
      broker.request('control-drain');
      assert.equal(broker.stopSource, 'time-limit');
    });

    it('a time limit during a brace stops for good; the brace timer does not resume work', async () => {
      const { broker, calls } = subject();
      broker.request('SIGTERM');
      broker.request('time-limit');
      assert.equal(broker.phase, 'stopping');
      assert.equal(exitCode(broker), 0);
      assert.deepEqual(calls, ['cancel'], 'the tasks already had their SIGTERM');
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'stopping');
      assert.equal(await runnable(broker), false);
    });

    it('a preemption still announced when the brace timer ends keeps the brace; its withdrawal resumes', () => {
      const { broker, calls } = subject();
      broker.request('SIGTERM');
      announce(broker);
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'braced', 'the event still stands');
      withdraw(broker);
      assert.equal(broker.phase, 'running');
      assert.deepEqual(calls, ['cancel', 'resumed']);
    });

    it('a preemption withdrawn before the brace timer ends: the brace waits for the timer', () => {
      const { broker } = subject();
      broker.request('SIGTERM');
      announce(broker);
      withdraw(broker);
      assert.equal(broker.phase, 'braced', 'a SIGTERM brace lasts its timeout');
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'running');
    });

    it('an announced preemption during a stop keeps the stop and its exit code; running tasks are cancelled', () => {
      const { broker, calls } = subject();
      broker.request('SIGUSR2');
      announce(broker);
      withdraw(broker);
      assert.equal(broker.phase, 'stopping');
      assert.equal(exitCode(broker), 0);
      assert.deepEqual(calls, ['cancel', 'cancel'], 'a second cancel, which a cancelled task ignores');
    });

    it('a resume starts the interrupt count again: a SIGTERM after a resume braces again', () => {
      const { broker } = subject();
      broker.request('SIGTERM');
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'running');
      broker.request('SIGTERM');
      assert.equal(broker.phase, 'braced', 'a first interrupt again, not a second');
    });

    it('a graceful source during a brace stops for good without another SIGTERM to the tasks', () => {
      const { broker, calls } = subject();
      announce(broker);
      broker.request('SIGUSR1');
      assert.equal(broker.phase, 'stopping');
      assert.equal(exitCode(broker), 0);
      assert.deepEqual(calls, ['cancel']);
    });
  });

  describe('preemption notices with a deadline', () => {
    const MARGIN_MS = 10_000;
    function noticed(options: { drainOnRebalance?: boolean } = {}): ReturnType<typeof subject> {
      const made = subject();
      const broker = new SignalBroker({ preemptionTimeoutMs: BRACE_MS, preemptionMarginMs: MARGIN_MS, ...options });
      made.broker.dispose();
      broker.subscribe({
        cancelRunning: () => made.calls.push('cancel'),
        killRunning: () => made.calls.push('kill'),
        resumed: () => made.calls.push('resumed'),
        changed: (phase) => made.phases.push(phase),
        notice: (source, notice) => made.calls.push(notice ? `noticed ${source}` : `cleared ${source}`),
      });
      return { ...made, broker };
    }

    it('braces at once and SIGKILLs what still runs the margin before the deadline, whatever the kill timeout', () => {
      const { broker, calls } = noticed();
      announce(broker, 'aws', new Date(30_000));
      assert.equal(broker.phase, 'braced');
      assert.deepEqual(calls, ['noticed aws', 'cancel']);
      mock.timers.tick(30_000 - MARGIN_MS - 1);
      assert.deepEqual(calls, ['noticed aws', 'cancel'], 'not before deadline - margin');
      mock.timers.tick(1);
      assert.deepEqual(calls, ['noticed aws', 'cancel', 'kill']);
      assert.equal(broker.phase, 'braced', 'the machine is going: no way back while the notice stands');
    });

    it('a deadline closer than the margin kills at once', () => {
      const { broker, calls } = noticed();
      announce(broker, 'gcp', new Date(5_000));
      mock.timers.tick(0);
      assert.deepEqual(calls, ['noticed gcp', 'cancel', 'kill']);
    });

    it('the earliest deadline among the clouds counts; a withdrawn notice re-arms for the one left', () => {
      const { broker, calls } = noticed();
      announce(broker, 'azure', new Date(100_000));
      announce(broker, 'aws', new Date(40_000));
      assert.equal(broker.preemptionDeadline?.getTime(), 40_000);
      withdraw(broker, 'aws');
      assert.equal(broker.phase, 'braced', 'the Azure notice still stands');
      mock.timers.tick(40_000);
      assert.ok(!calls.includes('kill'), 'the withdrawn deadline no longer kills');
      mock.timers.tick(100_000 - MARGIN_MS - 40_000);
      assert.ok(calls.includes('kill'));
    });

    it('withdrawn before the deadline: no kill, and work resumes', () => {
      const { broker, calls } = noticed();
      announce(broker, 'azure', new Date(60_000));
      withdraw(broker, 'azure');
      mock.timers.tick(120_000);
      assert.equal(broker.phase, 'running');
      assert.deepEqual(calls, ['noticed azure', 'cancel', 'cleared azure', 'resumed']);
    });

    it('a notice during a drain turns it into a cancel, and the deadline still kills', () => {
      const { broker, calls } = noticed();
      broker.request('SIGUSR1');
      assert.deepEqual(calls, []);
      announce(broker, 'aws', new Date(20_000));
      assert.deepEqual(calls, ['noticed aws', 'cancel']);
      mock.timers.tick(10_000);
      assert.deepEqual(calls, ['noticed aws', 'cancel', 'kill']);
      assert.equal(exitCode(broker), 0, 'the drain still decides the exit code');
    });

    it('a rebalance recommendation drains only when asked to', () => {
      const quiet = noticed();
      quiet.broker.rebalance();
      assert.equal(quiet.broker.phase, 'running');
      const draining = noticed({ drainOnRebalance: true });
      draining.broker.rebalance();
      assert.equal(draining.broker.phase, 'stopping');
      assert.deepEqual(draining.calls, [], 'a drain lets running tasks finish');
      assert.equal(exitCode(draining.broker), 0);
    });
  });

  describe('life', () => {
    it('dispose: waiting slots are told to stop, the brace timer is cleared, listeners are gone', async () => {
      const { broker, calls } = subject();
      broker.request('SIGTERM');
      const waiting = broker.whenRunnable();
      broker.dispose();
      assert.equal(await waiting, false);
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'stopping');
      broker.request('SIGINT');
      assert.deepEqual(calls, ['cancel'], 'no listener after dispose');
    });

    it('the pause signal aborts when work pauses, and a new one is armed on resume', () => {
      const { broker } = subject();
      const first = broker.pauseSignal;
      broker.request('SIGTERM');
      assert.equal(first.aborted, true);
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.pauseSignal.aborted, false);
    });

    it('a listener that throws does not stop the others, and is reported', () => {
      const errors: unknown[] = [];
      const broker = new SignalBroker({ preemptionTimeoutMs: BRACE_MS, onListenerError: (err) => errors.push(err) });
      const calls: string[] = [];
      broker.subscribe({
        cancelRunning: () => {
          throw new Error('listener failed');
        },
      });
      const unsubscribe = broker.subscribe({ cancelRunning: () => calls.push('second') });
      broker.request('SIGUSR2');
      assert.deepEqual(calls, ['second']);
      assert.equal(errors.length, 1);
      unsubscribe();
    });
  });
});
