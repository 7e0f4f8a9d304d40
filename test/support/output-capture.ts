/**
 * Captures everything this process writes to stdout and stderr (Powertools logs and EMF metrics
 * go there) instead of printing it, so a test can prove no secret value was printed.
 */
export interface OutputCapture {
  text(): string;
  stop(): void;
}

export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    text: () => chunks.join(''),
    stop: () => {
      streams.forEach((stream, index) => {
        const original = originals[index];
        if (original) stream.write = original;
      });
    },
  };
}

/**
 * The secret values found in `output`. Values shorter than 8 characters are ignored: they would
 * match by chance and no generated or test secret is that short.
 */
export function findLeakedValues(output: string, values: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const value of values) {
    if (value.length < 8) continue;
    if (output.includes(value) || output.includes(JSON.stringify(value).slice(1, -1))) leaked.push(value);
  }
  return leaked;
}
