/**
 * jobq's own `jobq:task-types` hook (package.json `oclif.hooks`): `shell` is
 * registered exactly as a plugin's task type is, so the registry has one way
 * to find every task type.
 */
import { createShellProcessor } from '../shell/shell.js';
import type { TaskTypesHook } from './task-types.js';

const builtinTaskTypes: TaskTypesHook = async () => [
  {
    name: 'shell',
    description: 'Run each task\'s "cmd" with bash in a session of its own (built in; -t for a pseudo-terminal).',
    createProcessor: ({ emulateTty, logger }) => createShellProcessor({ emulateTty, ...(logger ? { logger } : {}) }),
  },
];

export default builtinTaskTypes;
