// kubeconfigs as kubectl reads them (client-go v0.34 clientcmd): the current context only, its
// cluster and user; *-data fields (base64) override file references; relative paths are resolved
// against the kubeconfig's folder; clientcmd's validation errors (a cert without a key, data and
// file both given, a dangling current-context) and rest.TLSConfigFor's (a CA with
// insecure-skip-tls-verify) are findings. The result lists every file the kubeconfig references.
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Code } from './codes.ts';
import { judgeCredential } from './judge.ts';
import type { CredentialInput, ExpectedIdentity, FileRef, Finding, FixOption, Judgement, TrustRef } from './types.ts';

export type ReadFile = (path: string) => Promise<string | undefined> | string | undefined;

export interface ResolvedKubeconfig {
  path: string;
  findings: Finding[];
  warnings: Finding[];
  /** The current context's name, when it names one. */
  context?: string;
  cluster?: {
    name: string;
    server: string;
    /** What the client verifies the apiserver's certificate for: tls-server-name, else the URL's host. */
    serverName: string;
    tlsServerName?: string;
    insecure: boolean;
    /** The CA the client trusts: embedded data or the referenced file. */
    ca?: TrustRef;
  };
  user?: {
    name: string;
    cert?: FileRef;
    key?: FileRef;
    token: boolean;
    exec: boolean;
  };
  /** Files the current context references (absolute), read or not. */
  files: string[];
}

interface Named {
  name?: unknown;
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

class BadConfig extends Error {}

/** encoding/json's []byte: standard base64 with padding; CR and LF are ignored. */
function base64Data(v: unknown, field: string): Buffer | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BadConfig(`${field}: json: cannot unmarshal ${typeof v} into Go value of type []uint8`);
  const s = v.replace(/[\r\n]/g, '');
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0 || s.length % 4 !== 0 || /=[^=]/.test(s) || /={3,}$/.test(s)) {
    throw new BadConfig(`${field}: illegal base64 data at input byte ${bad >= 0 ? bad : s.length}`);
  }
  return Buffer.from(s, 'base64');
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function byName(list: unknown, kind: 'cluster' | 'user' | 'context'): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new BadConfig(`${kind}s: not a list`);
  for (const item of list as Named[]) {
    const name = str(item?.name);
    if (out.has(name)) throw new BadConfig(`duplicate name "${name}" in the ${kind}s list`);
    out.set(name, (item?.[kind] as Record<string, unknown>) ?? {});
  }
  return out;
}

export interface ResolveOptions {
  host?: string;
  /** The component that reads the kubeconfig, for messages ("kube-proxy"). */
  component?: string;
  fix?: FixOption;
}

/** Reads a kubeconfig as kubectl does; `readFile` reads the files it references (host paths). */
export async function resolveKubeconfig(
  text: string | undefined,
  path: string,
  readFile: ReadFile,
  opts: ResolveOptions = {},
): Promise<ResolvedKubeconfig> {
  const who = opts.component ?? 'kubectl';
  const res: ResolvedKubeconfig = { path, findings: [], warnings: [], files: [] };
  const add = (list: Finding[], code: Code, subject: string, message: string, fix: string, hardway?: string) => {
    const style = opts.fix ?? 'manual';
    const def = style === 'hardway' && hardway ? hardway : fix;
    const f =
      typeof style === 'function'
        ? style({ code, component: who, source: path, subject, trustPaths: [], ...(opts.host ? { host: opts.host } : {}) }, fix)
        : def;
    list.push({ code, ...(opts.host ? { host: opts.host } : {}), subject, message, fix: f });
  };
  const finding = (code: Code, subject: string, message: string, fix: string, hardway?: string) =>
    add(res.findings, code, subject, message, fix, hardway);
  const regen = `regenerate it (hardway render) and copy it to ${opts.host ?? 'the host'}`;
  if (text === undefined) {
    finding('missing', path, `absent, but ${who} is configured to read it`, `write the kubeconfig at ${path}`, regen);
    return res;
  }
  let doc: Record<string, unknown>;
  let clusters: Map<string, Record<string, unknown>>;
  let users: Map<string, Record<string, unknown>>;
  let contexts: Map<string, Record<string, unknown>>;
  try {
    let parsed: unknown;
    try {
      parsed = text.trim() ? parseYaml(text) : {};
    } catch (e) {
      throw new BadConfig(`not YAML (${(e as Error).message.split('\n')[0]})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadConfig('not a kubeconfig object');
    doc = parsed as Record<string, unknown>;
    clusters = byName(doc.clusters, 'cluster');
    users = byName(doc.users, 'user');
    contexts = byName(doc.contexts, 'context');
  } catch (e) {
    finding(
      'kubeconfig-unreadable',
      path,
      `client-go cannot load it: ${(e as Error).message}`,
      `rewrite ${path} (kubectl config view --raw shows what client-go reads)`,
      regen,
    );
    return res;
  }
  const dir = posix.dirname(path);
  const abs = (p: string) => (posix.isAbsolute(p) ? p : posix.join(dir, p));

  const current = str(doc['current-context']);
  if (!current) {
    finding(
      'kubeconfig-no-context',
      path,
      'current-context is empty: kubectl then talks to http://localhost:8080 and components refuse the file ("no configuration has been provided")',
      `set current-context in ${path} (kubectl config use-context <name> --kubeconfig ${path})`,
      regen,
    );
    return res;
  }
  const ctx = contexts.get(current);
  if (!ctx) {
    finding(
      'kubeconfig-context-missing',
      path,
      `current-context "${current}" names no context of the file (client-go: context was not found for specified context: ${current})`,
      `set current-context to one of: ${[...contexts.keys()].join(', ') || '(none defined)'}`,
      regen,
    );
    return res;
  }
  res.context = current;
  const clusterName = str(ctx.cluster);
  const userName = str(ctx.user);
  const cluster = clusters.get(clusterName);
  const user = users.get(userName);

  let decodeError: string | undefined;
  const data = (o: Record<string, unknown> | undefined, field: string, label: string): string | undefined => {
    try {
      return base64Data(o?.[field], label)?.toString('utf8');
    } catch (e) {
      decodeError ??= (e as Error).message;
      return undefined;
    }
  };

  if (!cluster) {
    finding(
      'kubeconfig-cluster-missing',
      path,
      `context "${current}" names cluster "${clusterName}", which the file does not define: kubectl falls back to http://localhost:8080`,
      `add cluster "${clusterName}" to ${path} or point the context at a defined one`,
      regen,
    );
  } else {
    const server = str(cluster.server);
    const caFile = str(cluster['certificate-authority']);
    const caData = data(cluster, 'certificate-authority-data', `clusters[${clusterName}].certificate-authority-data`);
    const insecure = cluster['insecure-skip-tls-verify'] === true;
    const tlsServerName = str(cluster['tls-server-name']) || undefined;
    let host = '';
    try {
      host = new URL(server).hostname.replace(/^\[|\]$/g, '');
    } catch {
      /* no usable server; reported below */
    }
    res.cluster = { name: clusterName, server, serverName: tlsServerName ?? host, insecure, ...(tlsServerName ? { tlsServerName } : {}) };
    if (!server || !/^https:\/\//i.test(server) || !host) {
      finding(
        'kubeconfig-no-server',
        path,
        server
          ? `cluster "${clusterName}" has server ${server}, not an https:// URL: kubectl would talk without TLS`
          : `cluster "${clusterName}" has no server: kubectl falls back to http://localhost:8080`,
        `set server: https://<apiserver>:6443 for cluster "${clusterName}"`,
        regen,
      );
    }
    if (caFile) res.files.push(abs(caFile));
    if (caFile && caData)
      finding(
        'kubeconfig-conflict',
        path,
        `cluster "${clusterName}" gives both certificate-authority and certificate-authority-data (client-go refuses: "certificate-authority-data and certificate-authority are both specified")`,
        'keep one of them',
        regen,
      );
    if (insecure && (caFile || caData))
      finding(
        'kubeconfig-conflict',
        path,
        `cluster "${clusterName}" gives a CA and insecure-skip-tls-verify (client-go refuses: "specifying a root certificates file with the insecure flag is not allowed")`,
        'remove insecure-skip-tls-verify',
        regen,
      );
    if (insecure && !caFile && !caData)
      add(
        res.warnings,
        'kubeconfig-insecure',
        path,
        `cluster "${clusterName}" sets insecure-skip-tls-verify: the apiserver's certificate is not checked`,
        'remove insecure-skip-tls-verify and set certificate-authority-data to the cluster CA',
        regen,
      );
    if (caData !== undefined) {
      res.cluster.ca = {
        path: `${path} (cluster "${clusterName}" certificate-authority-data)`,
        pem: caData,
        source: `${path} certificate-authority-data`,
      };
    } else if (caFile) {
      const pem = await readFile(abs(caFile));
      res.cluster.ca = { path: abs(caFile), pem, source: `${path} certificate-authority` };
      if (pem === undefined)
        finding(
          'missing',
          abs(caFile),
          `cluster "${clusterName}" of ${path} references it as certificate-authority (client-go: unable to read certificate-authority ${abs(caFile)})`,
          `put the cluster CA at ${abs(caFile)}, or embed it (kubectl config set-cluster --embed-certs)`,
          regen,
        );
    } else if (!insecure) {
      add(
        res.warnings,
        'kubeconfig-no-ca',
        path,
        `cluster "${clusterName}" has no certificate-authority: the apiserver's certificate is checked against the system's roots`,
        'embed the cluster CA (kubectl config set-cluster --certificate-authority=ca.pem --embed-certs)',
        regen,
      );
    }
  }

  if (!user) {
    finding(
      'kubeconfig-user-missing',
      path,
      userName
        ? `context "${current}" names user "${userName}", which the file does not define: kubectl sends no credential`
        : `context "${current}" names no user: kubectl sends no credential`,
      `add user "${userName || '<name>'}" to ${path} or point the context at a defined one`,
      regen,
    );
  } else {
    const certFile = str(user['client-certificate']);
    const keyFile = str(user['client-key']);
    const certData = data(user, 'client-certificate-data', `users[${userName}].client-certificate-data`);
    const keyData = data(user, 'client-key-data', `users[${userName}].client-key-data`);
    const token = !!str(user.token);
    const tokenFile = str(user.tokenFile);
    const exec = !!user.exec || !!user['auth-provider'];
    const basic = !!str(user.username) || !!str(user.password);
    for (const f of [certFile, keyFile, tokenFile]) if (f) res.files.push(abs(f));
    res.user = { name: userName, token: token || !!tokenFile, exec };
    const hasCert = !!certFile || certData !== undefined;
    const hasKey = !!keyFile || keyData !== undefined;
    if (certFile && certData !== undefined)
      finding(
        'kubeconfig-conflict',
        path,
        `user "${userName}" gives both client-certificate and client-certificate-data (client-go refuses: "client-cert-data and client-cert are both specified")`,
        'keep one of them',
        regen,
      );
    if (keyFile && keyData !== undefined)
      finding(
        'kubeconfig-conflict',
        path,
        `user "${userName}" gives both client-key and client-key-data (client-go refuses: "client-key-data and client-key are both specified")`,
        'keep one of them',
        regen,
      );
    if (token && basic)
      finding(
        'kubeconfig-conflict',
        path,
        `user "${userName}" gives a token and a username/password (client-go refuses: "more than one authentication method found")`,
        'keep one of them',
        regen,
      );
    if (hasCert && !hasKey)
      finding(
        'kubeconfig-client-key-missing',
        path,
        `user "${userName}" has a client certificate but no client-key(-data): client-go refuses the user ("client-key-data or client-key must be specified")`,
        `add client-key-data with the key of the certificate to user "${userName}"`,
        regen,
      );
    if (!hasCert && hasKey)
      finding(
        'kubeconfig-no-credential',
        path,
        `user "${userName}" has a client key but no certificate: kubectl presents no certificate, so the key is unusable (hardway's rule)`,
        `add client-certificate-data with the key's certificate to user "${userName}"`,
        regen,
      );
    if (!hasCert && !hasKey && !token && !tokenFile && !exec && !basic)
      finding(
        'kubeconfig-no-credential',
        path,
        `user "${userName}" has no credential at all: ${who} would be anonymous (hardway's rule)`,
        `give user "${userName}" a client certificate and key (or a token)`,
        regen,
      );
    const ref = async (file: string, data: string | undefined, field: string, what: string): Promise<FileRef | undefined> => {
      if (data !== undefined) return { path: `${path} (user "${userName}" ${field}-data)`, pem: data };
      if (!file) return undefined;
      const pem = await readFile(abs(file));
      if (pem === undefined)
        finding(
          'missing',
          abs(file),
          `user "${userName}" of ${path} references it as ${field} (client-go: unable to read ${what} ${abs(file)})`,
          `put the ${what} at ${abs(file)}, or embed it (kubectl config set-credentials --embed-certs)`,
          regen,
        );
      return { path: abs(file), pem };
    };
    const cert = await ref(certFile, certData, 'client-certificate', 'client-cert');
    const key = await ref(keyFile, keyData, 'client-key', 'client-key');
    if (cert) res.user.cert = cert;
    if (key) res.user.key = key;
    if (tokenFile && (await readFile(abs(tokenFile))) === undefined)
      finding(
        'missing',
        abs(tokenFile),
        `user "${userName}" of ${path} references it as tokenFile`,
        `put the token at ${abs(tokenFile)}`,
        regen,
      );
  }
  if (decodeError)
    finding(
      'kubeconfig-unreadable',
      path,
      `client-go cannot load it: ${decodeError}`,
      'write the *-data fields as standard base64 of the PEM text',
      regen,
    );
  return res;
}

export interface KubeconfigUse {
  host?: string;
  component: string;
  now?: Date;
  expiryWarningDays?: number;
  fix?: FixOption;
}

/** The kubeconfig's client certificate as the apiserver judges it (its --client-ca-file). */
export function kubeconfigClientCredential(
  k: ResolvedKubeconfig,
  use: KubeconfigUse & { clientCa: TrustRef[]; expectedIdentity?: ExpectedIdentity },
): CredentialInput | undefined {
  const u = k.user;
  if (!u?.cert || !u.key) return undefined;
  return {
    ...base(use),
    purpose: 'client',
    source: `${k.path} user "${u.name}"`,
    cert: u.cert,
    key: u.key,
    trust: use.clientCa,
    ...(use.expectedIdentity ? { expectedIdentity: use.expectedIdentity } : {}),
  };
}

/** The apiserver's serving certificate as this kubeconfig's client judges it (its CA, its server name). */
export function kubeconfigServerCredential(
  k: ResolvedKubeconfig,
  use: KubeconfigUse & { apiserverCert: FileRef; apiserverKey?: FileRef },
): CredentialInput | undefined {
  const c = k.cluster;
  if (!c?.ca || c.insecure) return undefined;
  return {
    ...base(use),
    purpose: 'serving',
    source: `${k.path} cluster "${c.name}"`,
    cert: use.apiserverCert,
    ...(use.apiserverKey ? { key: use.apiserverKey } : {}),
    trust: [c.ca],
    names: c.serverName ? [c.serverName] : [],
  };
}

function base(use: KubeconfigUse): Pick<CredentialInput, 'host' | 'component' | 'now' | 'expiryWarningDays' | 'fix'> {
  return {
    component: use.component,
    ...(use.host ? { host: use.host } : {}),
    ...(use.now ? { now: use.now } : {}),
    ...(use.expiryWarningDays !== undefined ? { expiryWarningDays: use.expiryWarningDays } : {}),
    ...(use.fix ? { fix: use.fix } : {}),
  };
}

/**
 * A kubeconfig as its component uses it: the file as client-go reads it, its client certificate
 * as the apiserver judges it, and the apiserver's serving certificate as this client judges it.
 */
export async function judgeKubeconfig(
  text: string | undefined,
  path: string,
  readFile: ReadFile,
  use: KubeconfigUse & { clientCa: TrustRef[]; apiserverCert?: FileRef; apiserverKey?: FileRef; expectedIdentity?: ExpectedIdentity },
): Promise<{ resolved: ResolvedKubeconfig; findings: Finding[]; warnings: Finding[]; examined: number }> {
  const resolved = await resolveKubeconfig(text, path, readFile, {
    component: use.component,
    ...(use.host ? { host: use.host } : {}),
    ...(use.fix ? { fix: use.fix } : {}),
  });
  const findings = [...resolved.findings];
  const warnings = [...resolved.warnings];
  let examined = 0;
  const merge = (j: Judgement) => {
    for (const f of j.findings) if (!findings.some((x) => x.code === f.code && x.subject === f.subject)) findings.push(f);
    warnings.push(...j.warnings);
    examined += j.examined;
  };
  const client = kubeconfigClientCredential(resolved, use);
  if (client) merge(judgeCredential(client));
  const server = use.apiserverCert ? kubeconfigServerCredential(resolved, { ...use, apiserverCert: use.apiserverCert }) : undefined;
  if (server) merge(judgeCredential(server));
  return { resolved, findings, warnings, examined };
}
