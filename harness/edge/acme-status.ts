// cert-manager's own account of a certificate that is not Ready yet, in one line: the Certificate's
// conditions, then the CertificateRequest, the ACME Order and its Challenges with their states and
// reasons (what `kubectl describe` on each of them would show, most telling first).
export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface CmObject {
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: { name?: string; kind?: string }[];
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[]; state?: string; reason?: string; presented?: boolean; processing?: boolean; [k: string]: unknown };
}

export interface AcmeState {
  certificate?: CmObject;
  issuer?: CmObject;
  requests: CmObject[];
  orders: CmObject[];
  challenges: CmObject[];
}

/** One line of at most about `n` characters; the cause of a Go error chain sits at its end, so
 * a long message keeps its head and its tail. */
const short = (s: string | undefined, n = 220) => {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length <= n ? t : `${t.slice(0, Math.floor(n * 0.4))} … ${t.slice(t.length - Math.floor(n * 0.6))}`;
};

export function conditionOf(o: CmObject | undefined, type: string): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === type);
}

function condLine(kind: string, o: CmObject | undefined, type = 'Ready'): string | undefined {
  if (!o) return undefined;
  const c = conditionOf(o, type);
  if (!c) return `${kind} ${o.metadata?.name}: no ${type} condition yet`;
  return `${kind} ${o.metadata?.name}: ${type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${short(c.message)}` : ''}`;
}

/** One line, most specific first: the Challenge, then the Order, the request, the certificate. */
export function describeAcmeState(s: AcmeState): string {
  const parts: string[] = [];
  for (const ch of s.challenges) {
    const st = ch.status ?? {};
    const dns = (ch.spec?.dnsName as string | undefined) ?? '?';
    parts.push(
      `Challenge ${ch.metadata?.name} (${ch.spec?.type ?? 'HTTP-01'} for ${dns}): state ${st.state || 'unknown'}, presented=${st.presented ?? false}, processing=${st.processing ?? false}${st.reason ? `: ${short(String(st.reason), 360)}` : ''}`,
    );
  }
  for (const o of s.orders) {
    const st = o.status ?? {};
    parts.push(`Order ${o.metadata?.name}: state ${st.state || 'pending'}${st.reason ? `: ${short(String(st.reason))}` : ''}`);
  }
  for (const r of s.requests) {
    const l = condLine('CertificateRequest', r);
    if (l) parts.push(l);
  }
  const issuer = condLine('ClusterIssuer', s.issuer);
  if (issuer && conditionOf(s.issuer, 'Ready')?.status !== 'True') parts.push(issuer);
  const ready = condLine('Certificate', s.certificate);
  const issuing = conditionOf(s.certificate, 'Issuing');
  if (ready) parts.push(ready);
  if (issuing)
    parts.push(
      `Issuing=${issuing.status}${issuing.reason ? ` (${issuing.reason})` : ''}${issuing.message ? `: ${short(issuing.message)}` : ''}`,
    );
  if (!s.certificate) parts.push('no Certificate resource');
  return parts.join('; ');
}

/** Narrows cert-manager's objects to those of one Certificate (by owner references). */
export function ownedChain(
  cert: CmObject,
  requests: CmObject[],
  orders: CmObject[],
  challenges: CmObject[],
): Omit<AcmeState, 'certificate' | 'issuer'> {
  const owned = (o: CmObject, owner: string) => (o.metadata?.ownerReferences ?? []).some((r) => r.name === owner);
  const reqs = requests.filter((r) => owned(r, cert.metadata?.name ?? ''));
  // Only the newest request's chain matters (older revisions are history).
  const rev = (r: CmObject) => Number(r.metadata?.annotations?.['cert-manager.io/certificate-revision'] ?? 0);
  const latest = reqs.sort((a, b) => rev(b) - rev(a)).slice(0, 1);
  const ords = orders.filter((o) => latest.some((r) => owned(o, r.metadata?.name ?? '')));
  const chs = challenges.filter((c) => ords.some((o) => owned(c, o.metadata?.name ?? '')));
  return { requests: latest, orders: ords, challenges: chs };
}
