/**
 * JSON text exactly as Python's `json.dumps` writes it with its defaults:
 * separators `", "` and `": "`, everything outside printable ASCII (and U+007F)
 * escaped as `\uXXXX` with surrogate pairs, floats in Python's `repr` form.
 * The reference computes task ids over this text, so it must be byte-exact.
 */

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
  if (Number.isSafeInteger(n)) return String(n);
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
