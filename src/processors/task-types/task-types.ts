/**
 * Task types from oclif plugins (SPEC §8). A plugin contributes task types by
 * implementing the `jobq:task-types` hook, declared in its package.json:
 *
 *   "oclif": { "hooks": { "jobq:task-types": "./dist/task-types.js" } }
 *
 * The hook's default export returns `TaskTypeDefinition[]`. jobq's own `shell`
 * comes the same way (builtin-task-types.ts). What a plugin returns crosses a
 * trust boundary: each definition is checked by shape, and a bad one is skipped
 * with a warning naming the plugin, never a crash. When two plugins define the
 * same name, the first wins, in this order: jobq itself, user-installed
 * plugins, linked plugins, then by package name.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, Hook, Interfaces } from '@oclif/core';
import { describeValue, errorMessage } from '../../errors.js';
import { splitModuleSpec } from '../module-spec.js';
import type { Processor, ProcessorOptions } from '../processor.js';

/** The name of the oclif hook event that plugins implement. */
export const taskTypesHook = 'jobq:task-types';

/** What a plugin's `jobq:task-types` hook returns, one per task type. */
export interface TaskTypeDefinition {
  /** What `--proc NAME` selects: letters, digits, `.`, `_`, `-`; starting with a letter or digit. */
  name: string;
  /** One line for `jobq task-types`. */
  description: string;
  /** A function task type: an ESM module (absolute path or file: URL, optionally `#export`) run on the thread pool. */
  module?: string;
  /** Or a factory for a processor that is not a function (the built-in shell). */
  createProcessor?: (options: ProcessorOptions) => Processor | Promise<Processor>;
}

/** oclif's hook table with jobq's event, so that a hook can be typed `TaskTypesHook`. */
export interface TaskTypeHooks extends Interfaces.Hooks {
  'jobq:task-types': { options: Record<string, never>; return: TaskTypeDefinition[] };
}

/** The type of a `jobq:task-types` hook implementation. */
export type TaskTypesHook = Hook<'jobq:task-types', TaskTypeHooks>;

/** A definition that passed the checks, with the plugin it came from. */
export type TaskType = {
  readonly name: string;
  readonly description: string;
  /** The oclif plugin (package name) that defined it; `jobq` for the built-in ones. */
  readonly plugin: string;
} & (
  | {
      readonly kind: 'function';
      /** An absolute path, optionally `#export`, as `createFunctionProcessor` takes it. */
      readonly module: string;
    }
  | {
      readonly kind: 'processor';
      readonly createProcessor: (options: ProcessorOptions) => Processor | Promise<Processor>;
    }
);

export interface TaskTypeCatalog {
  /** In plugin order, names unique. */
  readonly types: readonly TaskType[];
  /** Plugins that failed or returned bad definitions, one line each. */
  readonly warnings: readonly string[];
}

/** A plugin hook that takes longer than this is reported as failed rather than hanging the worker (ms). */
const hookTimeoutMs = 10_000;

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Runs every plugin's `jobq:task-types` hook on `config` and returns the valid
 * definitions. Without a config (the programmatic API) it loads jobq's own,
 * which includes the plugins installed or linked with `jobq plugins`.
 */
export async function loadTaskTypes(config?: Config): Promise<TaskTypeCatalog> {
  const loaded = config ?? (await loadJobqConfig());
  // captureErrors: a plugin calling `this.error()` in its hook must not end the command.
  const outcome = await loaded.runHook(taskTypesHook, {}, hookTimeoutMs, true);
  const warnings = outcome.failures.map(({ plugin, error }) => `plugin ${plugin.name}: its ${taskTypesHook} hook failed: ${errorMessage(error)}`);

  const successes = [...outcome.successes].sort((a, b) => comparePlugins(a.plugin, b.plugin));

  const byName = new Map<string, TaskType>();
  for (const { plugin, result } of successes) {
    const returned: unknown = result;
    if (!Array.isArray(returned)) {
      warnings.push(`plugin ${plugin.name}: its ${taskTypesHook} hook returned ${describeValue(returned)}, not an array of task types; ignored`);
      continue;
    }
    const definitions: readonly unknown[] = returned;
    for (const [index, definition] of definitions.entries()) {
      const checked = checkDefinition(definition, plugin.name);
      if (typeof checked === 'string') {
        warnings.push(`plugin ${plugin.name}: task type ${nameOf(definition) ?? `#${index + 1}`} ${checked}; ignored`);
        continue;
      }
      const earlier = byName.get(checked.name);
      if (earlier) {
        warnings.push(`plugin ${plugin.name}: task type "${checked.name}" is already defined by ${earlier.plugin}; ignored`);
        continue;
      }
      byName.set(checked.name, checked);
    }
  }
  return { types: [...byName.values()], warnings };
}

/** Plugin kinds in precedence order; oclif's `root` is jobq itself, `core` a plugin jobq bundles. */
const pluginRank: Record<string, number> = { root: 0, user: 1, link: 2, core: 3, dev: 4 };

/**
 * The order in which plugins get their names, so that the winner of a clash is
 * stable: oclif loads plugins concurrently and its own order is that of
 * completion. jobq first (no plugin can take `shell`), then by kind, then by name.
 */
function comparePlugins(a: Interfaces.Plugin, b: Interfaces.Plugin): number {
  const rank = (plugin: Interfaces.Plugin): number => pluginRank[plugin.isRoot ? 'root' : plugin.type] ?? 5;
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** jobq's oclif config, found from this file's location as bin/run.js finds it. */
async function loadJobqConfig(): Promise<Config> {
  // Imported here so that the library does not load oclif until it needs it.
  const { Config: OclifConfig } = await import('@oclif/core');
  return OclifConfig.load(import.meta.url);
}

/** The checked definition, or why it is refused. */
function checkDefinition(value: unknown, plugin: string): TaskType | string {
  if (typeof value !== 'object' || value === null) return `is ${describeValue(value)}, not an object`;
  const { name, description, module, createProcessor } = value as Record<keyof TaskTypeDefinition, unknown>;
  if (typeof name !== 'string' || !namePattern.test(name)) {
    return 'has no valid name (letters, digits, ".", "_", "-"; starting with a letter or digit)';
  }
  if (typeof description !== 'string') return 'has no description string';
  const oneLine = description.trim().replace(/\s+/g, ' ');
  if ((module === undefined) === (createProcessor === undefined)) return 'must have exactly one of `module` and `createProcessor`';
  if (createProcessor !== undefined) {
    if (typeof createProcessor !== 'function') return `has a createProcessor that is ${describeValue(createProcessor)}, not a function`;
    return {
      name,
      description: oneLine,
      plugin,
      kind: 'processor',
      createProcessor: createProcessor as NonNullable<TaskTypeDefinition['createProcessor']>,
    };
  }
  const modulePath = typeof module === 'string' ? absoluteModule(module) : undefined;
  if (modulePath === undefined) return 'has a module that is not an absolute path or file: URL';
  return { name, description: oneLine, plugin, kind: 'function', module: modulePath };
}

/** `PATH[#export]` for a file: URL or absolute path (with its `#export`), else undefined. */
function absoluteModule(module: string): string | undefined {
  if (module.startsWith('file:')) {
    let url: URL;
    try {
      url = new URL(module);
    } catch {
      return undefined;
    }
    const exportName = decodeURIComponent(url.hash.slice(1));
    url.hash = '';
    const file = fileURLToPath(url);
    return exportName === '' ? file : `${file}#${exportName}`;
  }
  return path.isAbsolute(splitModuleSpec(module).file) ? module : undefined;
}

function nameOf(value: unknown): string | undefined {
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? JSON.stringify(name) : undefined;
}
