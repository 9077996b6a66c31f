/**
 * A JSON reader that keeps what JavaScript values would lose, so that a JSON
 * line given to `push` is written back exactly as the reference (Python's
 * `json.loads` then `json.dumps`) writes it: keys stay in the order written
 * (a JavaScript object moves integer-like keys first), a repeated key keeps
 * its first place and takes its last value (as a Python dict does), integers
 * keep their digits (Python's are exact at any size), and a number with a
 * fraction or an exponent is a float (so `1.0` stays `1.0`, and `1.50` becomes
 * `1.5` as in Python).
 *
 * What Python reads but JSON does not (NaN, Infinity, a float too large to be
 * finite) is refused: the reference would write `Infinity`, which no other
 * JSON reader takes.
 */

export type JsonNode =
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  /** Digits as written (`-0` is read as `0`, as Python reads it). */
  | { readonly kind: 'integer'; readonly text: string }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'array'; readonly items: JsonNode[] }
  | { readonly kind: 'object'; readonly entries: Map<string, JsonNode> };

/** Why a text is not JSON that jobq takes; `message` says where. */
export class JsonReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonReadError';
  }
}

/** Python refuses to read an integer of more digits than this (`sys.get_int_max_str_digits()`). */
const maxIntegerDigits = 4300;
/** Python's json module stops at about this nesting depth (its recursion limit). */
const maxDepth = 1000;

const numberPattern = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const whitespace = new Set([' ', '\t', '\n', '\r']);

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): JsonNode {
    const value = this.value(0);
    this.skipWhitespace();
    if (this.at < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new JsonReadError(`${what} at column ${this.at + 1}`);
  }

  private skipWhitespace(): void {
    while (this.at < this.text.length && whitespace.has(this.text[this.at] as string)) this.at += 1;
  }

  private value(depth: number): JsonNode {
    if (depth > maxDepth) this.fail(`nested more than ${maxDepth} deep`);
    this.skipWhitespace();
    const ch = this.text[this.at];
    switch (ch) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return { kind: 'string', value: this.string() };
      case undefined:
        return this.fail('unexpected end of the text');
      default:
        for (const word of ['NaN', 'Infinity', '-Infinity']) {
          if (this.text.startsWith(word, this.at)) this.fail(`${word} is not JSON`);
        }
        if (ch === '-' || (ch >= '0' && ch <= '9')) return this.number();
        for (const [word, node] of literals) {
          if (this.text.startsWith(word, this.at)) {
            this.at += word.length;
            return node;
          }
        }
        return this.fail(`unexpected ${JSON.stringify(ch)}`);
    }
  }

  private object(depth: number): JsonNode {
    const entries = new Map<string, JsonNode>();
    this.at += 1;
    this.skipWhitespace();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.at] !== '"') this.fail('expected a key in double quotes');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at += 1;
      entries.set(key, this.value(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.at];
      this.at += 1;
      if (next === '}') return { kind: 'object', entries };
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(depth: number): JsonNode {
    const items: JsonNode[] = [];
    this.at += 1;
    this.skipWhitespace();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ']') return { kind: 'array', items };
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  /** A string token; its escapes (and the refusal of raw control characters) are JSON.parse's. */
  private string(): string {
    const start = this.at;
    let end = start + 1;
    for (;;) {
      const ch = this.text[end];
      if (ch === undefined) this.fail('unterminated string');
      if (ch === '"') break;
      end += ch === '\\' ? 2 : 1;
    }
    this.at = end + 1;
    try {
      return JSON.parse(this.text.slice(start, end + 1)) as string;
    } catch {
      this.at = start;
      return this.fail('invalid string');
    }
  }

  private number(): JsonNode {
    numberPattern.lastIndex = this.at;
    const match = numberPattern.exec(this.text);
    if (match === null) this.fail('invalid number');
    const text = match[0];
    this.at += text.length;
    if (match[1] === undefined && match[2] === undefined) {
      const digits = text.startsWith('-') ? text.length - 1 : text.length;
      if (digits > maxIntegerDigits) this.fail(`an integer of more than ${maxIntegerDigits} digits`);
      return { kind: 'integer', text: text === '-0' ? '0' : text };
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      this.at -= text.length;
      this.fail(`the number ${text} is out of range`);
    }
    return { kind: 'float', value };
  }
}

const literals: ReadonlyArray<readonly [string, JsonNode]> = [
  ['null', { kind: 'null' }],
  ['true', { kind: 'boolean', value: true }],
  ['false', { kind: 'boolean', value: false }],
];

/** Reads one JSON document (surrounding whitespace allowed), or throws JsonReadError. */
export function readOrderedJson(text: string): JsonNode {
  return new Reader(text).document();
}
