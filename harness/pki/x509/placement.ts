// Credentials in the wrong place (for the security suite): a client certificate that makes its
// holder cluster-admin through O=system:masters, with its key, on a worker, where no component
// needs one. A CN that a ClusterRoleBinding ties to cluster-admin is out of scope here: it needs
// the live RBAC objects, not files.
import { keyPairMismatch, parseCertificate, pemBlocks, readPrivateKeyAsGo } from './cert.ts';
import type { ResolvedKubeconfig } from './kubeconfig.ts';
import type { FileRef, Finding, FixOption } from './types.ts';

export interface MastersCredentialInput {
  host: string;
  role: 'master' | 'worker';
  /** Where it was found, e.g. "/root/.kube/config" or "/var/lib/kubernetes/admin.pem". */
  where: string;
  cert: FileRef;
  /** The key, when it is a separate file; a kubeconfig's client-key-data counts too. */
  key?: FileRef;
  fix?: FixOption;
}

export function judgeMastersCredentialOnWorker(input: MastersCredentialInput): {
  findings: Finding[];
  warnings: Finding[];
  examined: number;
} {
  const findings: Finding[] = [];
  const warnings: Finding[] = [];
  if (input.role !== 'worker' || input.cert.pem === undefined) return { findings, warnings, examined: 0 };
  const block = pemBlocks(input.cert.pem).find((b) => b.type === 'CERTIFICATE');
  if (!block) return { findings, warnings, examined: 0 };
  let cert;
  try {
    cert = parseCertificate(block.der, input.cert.path);
  } catch {
    return { findings, warnings, examined: 0 };
  }
  if (!cert.subject.o.includes('system:masters')) return { findings, warnings, examined: 1 };
  // The key may sit in its own file or next to the certificate (a combined PEM).
  const keyText = input.key?.pem ?? input.cert.pem;
  const key = readPrivateKeyAsGo(keyText);
  const usable = !!key.key && !keyPairMismatch(cert, key);
  const fix = `delete ${input.where} from ${input.host}: no worker component needs a system:masters credential; operators keep admin kubeconfigs off the nodes`;
  const style = input.fix ?? 'manual';
  const text =
    typeof style === 'function'
      ? style(
          {
            code: 'masters-credential-on-worker',
            host: input.host,
            component: 'security',
            source: input.where,
            subject: input.where,
            trustPaths: [],
          },
          fix,
        )
      : fix;
  const f: Finding = {
    code: 'masters-credential-on-worker',
    host: input.host,
    subject: input.where,
    message: usable
      ? `a client certificate in group system:masters ("${cert.subject.text}") with its key: anyone with root on ${input.host} is cluster-admin, bypassing RBAC (hardway's rule)`
      : `a system:masters client certificate ("${cert.subject.text}") without its key: not usable as it is, but it tells where the admin credential lives`,
    fix: text,
  };
  (usable ? findings : warnings).push(f);
  return { findings, warnings, examined: 1 };
}

/** The same for a kubeconfig found on a host: its current user's certificate and key. */
export function judgeMastersKubeconfigOnWorker(
  k: ResolvedKubeconfig,
  host: string,
  role: 'master' | 'worker',
  fix?: FixOption,
): { findings: Finding[]; warnings: Finding[]; examined: number } {
  if (!k.user?.cert) return { findings: [], warnings: [], examined: 0 };
  return judgeMastersCredentialOnWorker({
    host,
    role,
    where: k.path,
    cert: k.user.cert,
    ...(k.user.key ? { key: k.user.key } : {}),
    ...(fix ? { fix } : {}),
  });
}
