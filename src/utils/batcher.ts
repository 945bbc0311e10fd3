/**
 * Natural batching: while one flush is in flight, new items wait and go together in the next
 * one. Under load many requests share one database round trip and one commit; with no load a
 * lone item is flushed at once, so latency does not grow.
 */
export class Batcher<I, O> {
  #pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<(O | Error)[]>,
    private readonly options: { maxBatch?: number; maxInFlight?: number } = {},
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    const maxInFlight = this.options.maxInFlight ?? 2;
    while (this.#pending.length > 0 && this.#inFlight < maxInFlight) {
      const batch = this.#pending.splice(0, this.options.maxBatch ?? 256);
      this.#inFlight += 1;
      this.flush(batch.map((b) => b.item))
        .then(
          (results) => {
            batch.forEach((b, i) => {
              const r = results[i];
              if (r instanceof Error) b.reject(r);
              else if (r === undefined) b.reject(new Error('the batch returned no result for this item'));
              else b.resolve(r);
            });
          },
          (err) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          this.#inFlight -= 1;
          this.#drain();
        });
    }
  }
}
