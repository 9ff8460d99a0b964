/** A wait as a person reads it: `42 s`, `12 min`, `9 h 10 min` (seconds rounded up). */
export function formatWait(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 120) return `${s} s`;
  const minutes = Math.ceil(s / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
