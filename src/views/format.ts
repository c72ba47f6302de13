/** Small text helpers for card view models: numbers, durations, clipping and neutralising template syntax. */

/** Shortest decimal form without float noise: 0.30000000000000004 → "0.3". */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number.parseFloat(x.toPrecision(12)));
}

/** 45 → "45 s", 600 → "10 min", 5400 → "1 h 30 min", 90 → "1 min 30 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts: string[] = [];
  if (h > 0) parts.push(`${h} h`);
  if (m > 0) parts.push(`${m} min`);
  if (rest > 0 && h === 0) parts.push(`${rest} s`);
  return parts.join(' ');
}

/** 5 → "5 %", with a no-break space so the sign never wraps onto a line of its own. */
export function percent(x: number): string {
  return `${num(x)}\u00a0%`;
}

/** 12345 → "12,345" (fixed locale, so cards do not depend on the server's). */
export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Text from requests, chat or a model is untrusted: it is clipped, loses control characters, and any `${` becomes
 * `$\u200B{` so no card ever shows something that looks like an unexpanded template binding.
 */
export function safeText(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const cleaned = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').replace(/\$\{/g, '$\u200b{');
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** One line: newlines collapse to spaces. */
export function oneLine(text: string, max = 300): string {
  return safeText(text.replace(/\s*[\r\n]+\s*/g, ' '), max);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
