// Each layout's lab model: the seed's (lab "lab", 10.240.0.0/24) and KTHW's (lab "kthw",
// 10.241.0.0/24), which can run side by side. `--layout` picks one; `--config` names any model.
import { resolve } from 'node:path';
import { type LayoutName, LAYOUTS } from '../../model/cluster.ts';
import { UsageError } from '../../cli/errors.ts';

const REPO = resolve(import.meta.dirname, '../../..');

export const LAB_CONFIGS: Record<LayoutName, string> = {
  seed: resolve(REPO, 'fixtures/lab/cluster.yaml'),
  kthw: resolve(REPO, 'fixtures/lab-kthw/cluster.yaml'),
};

export function parseLayout(value: string | undefined): LayoutName | undefined {
  if (value !== undefined && !(LAYOUTS as string[]).includes(value))
    throw new UsageError(`--layout must be ${LAYOUTS.join(' or ')}, got "${value}"`);
  return value as LayoutName | undefined;
}

/** The model a lab command uses: --config, else the lab model of --layout, else the seed lab's. */
export function labConfigPath(config: string | undefined, layout: string | undefined): { path: string; layout?: LayoutName } {
  const l = parseLayout(layout);
  return { path: resolve(config ?? LAB_CONFIGS[l ?? 'seed']), ...(l ? { layout: l } : {}) };
}
