/**
 * A small reader of the Prometheus text exposition format (what vLLM's, SGLang's and
 * llama.cpp's `/metrics` serve): the samples of a few named metrics, summed over their label
 * sets (vLLM labels each by `model_name`; several engines behind one server add up).
 */

/** Longest line looked at; longer ones (huge label sets) are skipped. */
const MAX_LINE = 4096;
const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{.*\})?\s+(\S+)(?:\s+\S+)?$/;

/**
 * The sum of each wanted metric's samples; metrics absent from the text are absent from the
 * map. Comments, other metrics, unparsable lines and non-finite values are ignored.
 *
 * @example
 * readMetrics('vllm:num_requests_waiting{model_name="m"} 3.0\n', ['vllm:num_requests_waiting'])
 * // → Map { 'vllm:num_requests_waiting' => 3 }
 */
export function readMetrics(text: string, wanted: readonly string[]): Map<string, number> {
  const names = new Set(wanted);
  const sums = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.length > MAX_LINE) continue;
    const match = SAMPLE.exec(line);
    if (!match || !names.has(match[1] as string)) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const name = match[1] as string;
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return sums;
}
