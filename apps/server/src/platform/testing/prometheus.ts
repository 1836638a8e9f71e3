/**
 * Prometheus text exposition, strictly: every line a comment or `name{labels} value`; samples by
 * series. Values are Go floats, so NaN and Inf in any letter case (prom-client writes `Nan` for the
 * mean of an event-loop histogram that has no samples yet).
 */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+-]+|nan|[+-]inf)( \d+)?$/i.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const v = m[3]!.toLowerCase();
    samples.set(m[1]!, v === 'nan' ? NaN : v === '+inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));
  }
  return samples;
}
