/** A module given as `PATH` or `PATH#exportName` (`--proc`, a plugin's task type). */
export function splitModuleSpec(spec: string): { file: string; exportName: string | undefined } {
  const hash = spec.lastIndexOf('#');
  return hash === -1 ? { file: spec, exportName: undefined } : { file: spec.slice(0, hash), exportName: spec.slice(hash + 1) };
}
