/** How numbers read on the page: spans, sizes, times in the browser's own zone and language. */

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat();

/** A span of time: `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function span(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${decimal.format(s)} s`;
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]];
  const parts: string[] = [];
  let rest = Math.round(s);
  for (const [unit, size] of units) {
    if (rest >= size || parts.length > 0) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  // `15 min`, not `15 min 0 s`.
  return parts.filter((part, i) => i === 0 || !part.startsWith('0 ')).join(' ');
}

export function bytes(n: number): string {
  const mib = n / 2 ** 20;
  return mib < 1024 ? `${whole.format(Math.round(mib))} MiB` : `${decimal.format(mib / 1024)} GiB`;
}

export function count(n: number): string {
  return whole.format(n);
}

export function rate(n: number): string {
  return decimal.format(n);
}

export function time(ms: number): string {
  return clock.format(ms);
}

export function when(ms: number | string): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : dateTime.format(date);
}

/** A task id as people see it: its first 8 characters. */
export function shortId(id: string | null): string {
  return id === null ? '–' : id.slice(0, 8);
}
