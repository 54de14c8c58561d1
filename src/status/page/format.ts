/** How the status page writes numbers, shares and durations. */

/** "1 request", "2,048 requests". */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString("en")} ${noun}${count === 1 ? "" : "s"}`;
}

/** A fraction as a percentage: "0 %", "<0.1 %", "4.17 %", "33.3 %", "100 %". */
export function percent(fraction: number): string {
  const value = fraction * 100;
  return `${value === 0 || value === 100 ? value : value < 0.1 ? "<0.1" : value.toFixed(value < 10 ? 2 : 1)} %`;
}

/** A rate per second: two decimals below 10, one below 100, whole above. */
export function rate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString("en") : perSecond.toFixed(perSecond >= 10 ? 1 : 2);
}

/** A duration in ms as seconds, minutes or hours (negative counts as 0). */
export function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A duration in ms as "… ago". */
export function ago(ms: number): string {
  return `${seconds(ms)} ago`;
}
