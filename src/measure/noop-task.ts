/**
 * The no-op function task of `jobq bench` and bench/functions: it returns at
 * once, so a run measures what jobq adds around a task. Compiled next to the
 * bench code, which finds it by URL.
 */
export default function noop(): void {}
