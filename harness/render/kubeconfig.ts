// kubeconfig files with the CA and the client certificate embedded, as the seed's
// generate-configkube.sh (kubectl config set-cluster --embed-certs) writes them.
import { stringify } from 'yaml';

export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeconfig(k: KubeconfigInput): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: k.clusterName, cluster: { 'certificate-authority-data': b64(k.caPem), server: k.server } }],
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
    contexts: [{ name: 'default', context: { cluster: k.clusterName, user: k.user } }],
    'current-context': 'default',
    preferences: {},
  });
}
