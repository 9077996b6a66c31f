/** An integer flag with bounds, whose error names the flag and says the bounds (oclif's does not say them plainly). */
import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';

export function boundedInteger(name: string, min: number, max: number) {
  return Flags.custom<number>({
    parse: async (text) => {
      const value = Number(text);
      if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
        throw new UsageError(`invalid ${name} "${text}": must be an integer from ${min} to ${max}`);
      }
      return value;
    },
  });
}
