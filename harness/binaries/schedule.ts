// How source builds share this machine's cores: at most BUILD_SLOTS `go build`s at a time (each
// compiles in parallel itself; two keep both cores busy through the other's single-threaded link
// and module downloads), the cluster's components before the HTTPS edge's (the install waits for
// the first, only the edge for the second), and the longest first within each. Module downloads
// (network-bound) run ahead of the builds, outside the slots.
export const BUILD_SLOTS = Number(process.env.HARDWAY_BUILD_SLOTS ?? 2);

interface Job {
  rank: number[];
  start: () => void;
}

export class BuildPool {
  private readonly slots: number;
  private running = 0;
  private readonly queue: Job[] = [];

  constructor(slots: number) {
    this.slots = Math.max(1, slots);
  }

  /** Runs `fn` when a slot is free; lower ranks (compared in order) go first. */
  run<T>(rank: number[], fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      };
      this.queue.push({ rank, start });
      this.queue.sort((a, b) => compare(a.rank, b.rank));
      // Dispatched after the current turn: requests made together (the cluster's and the edge's
      // binaries, asked for at once) are ranked together before the first one takes a slot.
      setImmediate(() => this.next());
    });
  }

  private next(): void {
    while (this.running < this.slots && this.queue.length) this.queue.shift()!.start();
  }
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** One pool per process: every ensureBinaries call (the cluster's, the edge's) shares it. */
export const buildPool = new BuildPool(BUILD_SLOTS);
