// The cluster's install as promises, fed by the installer's onHealthy: what lab up runs alongside
// the install (the HTTPS edge) waits on them. They all fail when the install fails, so nothing
// waits for a cluster that will not come.
import type { ClusterReadiness } from '../../edge/install.ts';
import { type Cluster, allHosts } from '../../model/cluster.ts';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // awaited later, or never when nothing runs alongside
  return { promise, resolve, reject };
}

export class InstallReadiness implements ClusterReadiness {
  private readonly apiserverReady = deferred();
  private readonly nodesReady = deferred();
  private readonly runtimes: Map<string, Deferred>;
  private readonly copies: Map<string, Deferred>;
  private readonly master: string;

  constructor(c: Cluster) {
    this.master = c.masters[0]!.host;
    this.runtimes = new Map(c.workers.map((w) => [w.host, deferred()]));
    this.copies = new Map(allHosts(c).map((h) => [h.host, deferred()]));
  }

  get apiserver(): Promise<void> {
    return this.apiserverReady.promise;
  }

  get nodes(): Promise<void> {
    return this.nodesReady.promise;
  }

  copied(host: string): Promise<void> {
    return this.copies.get(host)?.promise ?? Promise.reject(new Error(`no host ${host}`));
  }

  containerd(host: string): Promise<void> {
    return this.runtimes.get(host)?.promise ?? Promise.reject(new Error(`${host} is not a worker`));
  }

  /** The installer's onHealthy. */
  readonly healthy = (host: string, component: string): void => {
    if (component === 'kube-apiserver' && host === this.master) this.apiserverReady.resolve();
    else if (component === 'containerd') this.runtimes.get(host)?.resolve();
    else if (component === 'copied') this.copies.get(host)?.resolve();
    else if (component === 'nodes-ready') this.nodesReady.resolve();
  };

  fail(e: unknown): void {
    for (const d of [this.apiserverReady, this.nodesReady, ...this.runtimes.values(), ...this.copies.values()]) d.reject(e);
  }
}
