/**
 * jobq's own task types, and its `jobq:task-types` hook (package.json
 * `oclif.hooks`) that offers them as a plugin offers its own, so that
 * `jobq task-types` lists them all one way. The registry takes a built-in
 * type straight from here, without loading the CLI's plugin configuration.
 */
import { createShellProcessor } from '../shell/shell.js';
import type { TaskTypeDefinition, TaskTypesHook } from './task-types.js';

export const builtinTaskTypes: readonly TaskTypeDefinition[] = [
  {
    name: 'shell',
    description: 'Run each task\'s "cmd" with bash in a session of its own (built in; -t for a pseudo-terminal).',
    createProcessor: ({ emulateTty, killTimeoutMs, warn }) => createShellProcessor({ emulateTty, killTimeoutMs, ...(warn && { warn }) }),
  },
];

const builtinTaskTypesHook: TaskTypesHook = async () => [...builtinTaskTypes];

export default builtinTaskTypesHook;
