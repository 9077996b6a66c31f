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

function exitCode(broker: SignalBroker): number {
  return exitCodeForStop(broker.stopSource);
}

describe('signal broker (SPEC §6.1)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
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
      broker.setPreemptionAnnounced(true);
      assert.equal(broker.phase, 'braced');
      assert.deepEqual(calls, ['cancel']);
      broker.setPreemptionAnnounced(false);
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
      broker.setPreemptionAnnounced(true);
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'braced', 'the event still stands');
      broker.setPreemptionAnnounced(false);
      assert.equal(broker.phase, 'running');
      assert.deepEqual(calls, ['cancel', 'resumed']);
    });

    it('a preemption withdrawn before the brace timer ends: the brace waits for the timer', () => {
      const { broker } = subject();
      broker.request('SIGTERM');
      broker.setPreemptionAnnounced(true);
      broker.setPreemptionAnnounced(false);
      assert.equal(broker.phase, 'braced', 'a SIGTERM brace lasts its timeout');
      mock.timers.tick(BRACE_MS);
      assert.equal(broker.phase, 'running');
    });

    it('an announced preemption during a stop changes nothing', () => {
      const { broker, calls } = subject();
      broker.request('SIGUSR2');
      broker.setPreemptionAnnounced(true);
      broker.setPreemptionAnnounced(false);
      assert.equal(broker.phase, 'stopping');
      assert.deepEqual(calls, ['cancel']);
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
      broker.setPreemptionAnnounced(true);
      broker.request('SIGUSR1');
      assert.equal(broker.phase, 'stopping');
      assert.equal(exitCode(broker), 0);
      assert.deepEqual(calls, ['cancel']);
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
