/** Prometheus text exposition, strictly: every line a comment or `name{labels} value`; samples by series. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( \d+)?$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(m[1]!, Number(m[3]));
  }
  return samples;
}
