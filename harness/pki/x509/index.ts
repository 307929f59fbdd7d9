// Credentials judged as the components' own Go TLS stack judges them. See README-certs.md.
export { judgeCredential } from './judge.ts';
export {
  judgeKubeconfig,
  resolveKubeconfig,
  kubeconfigClientCredential,
  kubeconfigServerCredential,
  type ResolvedKubeconfig,
  type ReadFile,
} from './kubeconfig.ts';
export { judgeServiceAccountKeys, type ServiceAccountKeysInput } from './service-account.ts';
export { judgeMastersCredentialOnWorker, judgeMastersKubeconfigOnWorker, type MastersCredentialInput } from './placement.ts';
export { CODES, type Code, type CodeInfo } from './codes.ts';
export type {
  ChainLink,
  CredentialInput,
  ExpectedIdentity,
  FileRef,
  Finding,
  FixOption,
  FixRequest,
  FixStyle,
  Judgement,
  Purpose,
  TrustRef,
} from './types.ts';
