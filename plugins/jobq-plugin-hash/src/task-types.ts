/**
 * The plugin's `jobq:task-types` hook (declared in package.json `oclif.hooks`).
 * jobq runs it to learn which task types this plugin adds; `hash` is a function
 * task type, so jobq runs `hash.js` on its thread pool.
 */

/** jobq's TaskTypeDefinition (the function kind), restated so that the plugin needs no dependency on jobq. */
export interface TaskTypeDefinition {
  name: string;
  description: string;
  /** An absolute path or file: URL of an ESM module whose default export is the task function. */
  module: string;
}

export default async function taskTypes(): Promise<TaskTypeDefinition[]> {
  return [
    {
      name: 'hash',
      description: 'Checksum a file: {"path": FILE, "algorithm": "sha256" (default) | "sha1" | "md5" | "sha512"}.',
      module: new URL('./hash.js', import.meta.url).href,
    },
  ];
}
