/**
 * JSON text exactly as Python's `json.dumps` writes it with its defaults:
 * separators `", "` and `": "`, everything outside printable ASCII (and U+007F)
 * escaped as `\uXXXX` with surrogate pairs, floats in Python's `repr` form.
 * The reference computes task ids over this text, so it must be byte-exact.
 */
import type { JsonNode } from './ordered-json.js';

const shortEscapes: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// Python's ESCAPE_ASCII: a quote, a backslash, or anything outside ' '..'~'.
// Matching UTF-16 code units (no `u` flag) yields surrogate pairs as two escapes.
const needsEscape = /["\\]|[^ -~]/g;

function escapeChar(ch: string): string {
  return shortEscapes[ch] ?? '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

export function pythonString(s: string): string {
  return '"' + s.replace(needsEscape, escapeChar) + '"';
}

/** Python's repr of a number: ints as digits, floats as the shortest round-trip form. */
export function pythonNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new TypeError(`${n} has no JSON representation`);
  }
  // -0 is written `0`, as JSON.stringify writes it: a JavaScript number does not say whether it was a float.
  return Number.isSafeInteger(n) ? String(n) : pythonFloat(n);
}

/** Python's repr of a float (`1.0`, `1e-05`, `1e+16`, `-0.0`). */
export function pythonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`${n} has no JSON representation`);
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  // JS and Python agree on the shortest digits; they differ in where they switch
  // to exponent notation (Python: exponent < -4 or >= 16) and how they write it.
  const [mantissa = '', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const text = String(n);
  return Number.isInteger(n) ? `${text}.0` : text;
}

/** `json.dumps(value)` for any JSON value (objects keep insertion order). */
export function pythonDumps(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pythonString(value);
    case 'number':
      return pythonNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map(pythonDumps).join(', ') + ']';
      const parts: string[] = [];
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        parts.push(pythonString(key) + ': ' + pythonDumps(item));
      }
      return '{' + parts.join(', ') + '}';
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON representation`);
  }
}

/**
 * `json.dumps` of a value read by `readOrderedJson`, byte for byte as Python
 * writes what `json.loads` read; with `indent`, as `json.dumps(value, indent=N)`
 * lays it out (`","` then a new line between items).
 */
export function pythonDumpsNode(node: JsonNode, indent?: number): string {
  return dumpNode(node, indent, 1);
}

function dumpNode(node: JsonNode, indent: number | undefined, level: number): string {
  switch (node.kind) {
    case 'null':
      return 'null';
    case 'boolean':
      return node.value ? 'true' : 'false';
    case 'string':
      return pythonString(node.value);
    case 'integer':
      return node.text;
    case 'float':
      return pythonFloat(node.value);
    case 'array':
      return container('[', ']', node.items.map((item) => dumpNode(item, indent, level + 1)), indent, level);
    case 'object':
      return container(
        '{',
        '}',
        [...node.entries].map(([key, value]) => `${pythonString(key)}: ${dumpNode(value, indent, level + 1)}`),
        indent,
        level,
      );
  }
}

function container(open: string, close: string, parts: readonly string[], indent: number | undefined, level: number): string {
  if (parts.length === 0) return open + close;
  if (indent === undefined) return open + parts.join(', ') + close;
  const inner = '\n' + ' '.repeat(indent * level);
  return open + inner + parts.join(',' + inner) + '\n' + ' '.repeat(indent * (level - 1)) + close;
}
