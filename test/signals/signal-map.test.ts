/** JOBQ_SIGNAL_MAP: what each signal means, and one clear error naming the variable for a bad map. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { defaultSignalMap, parseSignalMap, signalMapFromEnv } from '../../src/signals/signal-map.js';

function usageError(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseSignalMap(text),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : '';
      return hasCode(err, 'USAGE') && message.startsWith('invalid JOBQ_SIGNAL_MAP "') && pattern.test(message);
    },
  );
}

describe('JOBQ_SIGNAL_MAP', () => {
  it('unset: the meanings of SPEC §6.1', () => {
    assert.deepEqual(
      [...signalMapFromEnv({})],
      [
        ['SIGTERM', 'preempt'],
        ['SIGINT', 'interrupt'],
        ['SIGUSR1', 'drain'],
        ['SIGUSR2', 'stop'],
      ],
    );
    assert.equal(signalMapFromEnv({}), defaultSignalMap);
  });

  it('entries override the defaults; names in any case, with or without SIG; spaces and a trailing comma allowed', () => {
    const map = signalMapFromEnv({ JOBQ_SIGNAL_MAP: ' usr1 = preempt, SIGUSR2=Drain,XCPU=stop,HUP=ignore,' });
    assert.equal(map.get('SIGUSR1'), 'preempt');
    assert.equal(map.get('SIGUSR2'), 'drain');
    assert.equal(map.get('SIGXCPU'), 'stop');
    assert.equal(map.get('SIGHUP'), 'ignore');
    assert.equal(map.get('SIGTERM'), 'preempt', 'left out: as before');
    assert.equal(map.get('SIGINT'), 'interrupt');
  });

  it('bad maps are usage errors that say what is wrong and what would do', () => {
    usageError('USR1=pause', /unknown action pause; expected one of preempt, drain, stop, interrupt, ignore/);
    usageError('KILL=preempt', /unknown signal KILL; expected one of TERM, INT, HUP, QUIT, USR1, USR2, XCPU/);
    usageError('USR1=preempt,USR1=drain', /USR1 is given twice/);
    usageError('USR1', /"USR1" is not SIGNAL=ACTION/);
    usageError('10=preempt', /unknown signal 10/);
  });
});
