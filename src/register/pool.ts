// Bounded parallelism for per-node requests: a 2,000-node registration must not open 2,000
// sockets to BSS at once, nor wait for 2,000 round trips in a row.

/** Map with at most `limit` calls in flight; results keep the input order. First error rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
