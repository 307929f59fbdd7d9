// A kubeconfig as a component reads it: its current-context (or the one a caller names, such as
// CoreDNS's "kubeconfig FILE CONTEXT") picks the cluster and user. The result names files and says
// whether data is embedded, never carries the data itself: embedded keys and tokens are secrets
// and must not reach reports. Only the CA data is decoded, as PEM, for chain checks.
import type { Parsed } from './problem.ts';
import { YamlDoc } from './yaml-doc.ts';

export interface KubeconfigView {
  contextName?: string;
  clusterName?: string;
  userName?: string;
  server?: string;
  /** certificate-authority file, when referenced. */
  caFile?: string;
  /** certificate-authority-data decoded (a public certificate, not a secret). */
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  clientCertFile?: string;
  clientCertEmbedded: boolean;
  /** Decoded client-certificate-data (public). */
  clientCertPem?: string;
  clientKeyFile?: string;
  clientKeyEmbedded: boolean;
  tokenFile?: string;
  tokenEmbedded: boolean;
  /** exec or auth-provider plugins authenticate the user. */
  authPlugin?: string;
}

type Named = { name?: unknown; [k: string]: unknown };

export function parseKubeconfig(text: string, file: string, opts: { context?: string } = {}): Parsed<KubeconfigView> {
  const d = new YamlDoc(text, file);
  const v: KubeconfigView = { insecureSkipTLSVerify: false, clientCertEmbedded: false, clientKeyEmbedded: false, tokenEmbedded: false };
  if (!d.ok) return { value: v, problems: d.list() };
  if (d.str(['kind']) && d.str(['kind']) !== 'Config') d.problems.add(`kind is ${d.str(['kind'])}, expected Config`, d.lineOf(['kind']));
  const list = (k: string) => (Array.isArray(d.data[k]) ? (d.data[k] as Named[]) : []);
  const find = (k: string, name: string | undefined) => (name === undefined ? undefined : list(k).find((x) => x.name === name));
  const ctxName = opts.context ?? d.str(['current-context']);
  if (!ctxName) {
    d.problems.add('no current-context: clients built from this file have no cluster', 1);
    return { value: v, problems: d.list() };
  }
  v.contextName = ctxName;
  const ctx = find('contexts', ctxName)?.context as Record<string, unknown> | undefined;
  if (!ctx) {
    d.problems.add(`context ${ctxName} is not in contexts:`, d.lineOf(['current-context']));
    return { value: v, problems: d.list() };
  }
  const s = (o: Record<string, unknown> | undefined, k: string) => (typeof o?.[k] === 'string' ? (o[k] as string) : undefined);
  v.clusterName = s(ctx, 'cluster');
  v.userName = s(ctx, 'user');
  const cluster = find('clusters', v.clusterName)?.cluster as Record<string, unknown> | undefined;
  if (!cluster) d.problems.add(`cluster ${v.clusterName ?? '(none)'} of context ${ctxName} is not in clusters:`);
  else {
    if (s(cluster, 'server')) v.server = s(cluster, 'server');
    else d.problems.add(`cluster ${v.clusterName} has no server`);
    if (s(cluster, 'certificate-authority')) v.caFile = s(cluster, 'certificate-authority');
    const caData = s(cluster, 'certificate-authority-data');
    if (caData) v.caPem = Buffer.from(caData, 'base64').toString('utf8');
    v.insecureSkipTLSVerify = cluster['insecure-skip-tls-verify'] === true;
  }
  const user = find('users', v.userName)?.user as Record<string, unknown> | undefined;
  if (v.userName && !user) d.problems.add(`user ${v.userName} of context ${ctxName} is not in users:`);
  if (user) {
    if (s(user, 'client-certificate')) v.clientCertFile = s(user, 'client-certificate');
    const certData = s(user, 'client-certificate-data');
    if (certData) {
      v.clientCertEmbedded = true;
      v.clientCertPem = Buffer.from(certData, 'base64').toString('utf8');
    }
    if (s(user, 'client-key')) v.clientKeyFile = s(user, 'client-key');
    v.clientKeyEmbedded = typeof user['client-key-data'] === 'string';
    if (s(user, 'tokenFile')) v.tokenFile = s(user, 'tokenFile');
    v.tokenEmbedded = typeof user.token === 'string';
    if (user.exec) v.authPlugin = 'exec';
    else if (user['auth-provider']) v.authPlugin = 'auth-provider';
    if ((v.clientCertFile || v.clientCertEmbedded) !== (v.clientKeyFile !== undefined || v.clientKeyEmbedded))
      d.problems.add(`user ${v.userName} has a client certificate without a key or a key without a certificate`);
  }
  return { value: v, problems: d.list() };
}
