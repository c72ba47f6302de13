/** Durations in the card's units: 45 → "45 s", 600 → "10 min", 5400 → "1 h 30 min", 90 → "1 min 30 s". */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [
    h > 0 ? `${h.toLocaleString('en-US')} h` : '',
    m > 0 ? `${m} min` : '',
    rest > 0 && h === 0 ? `${rest} s` : '',
  ];
  return parts.filter((p) => p !== '').join(' ');
}
