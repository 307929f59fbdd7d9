// vitest globalSetup of the "lab" project: one lab for all lab tests, up before the first and
// down after the last (also when tests fail). HARDWAY_TEST_REUSE_LAB=1 uses a lab that is already
// up (hardway lab up) and leaves it running: quick iterations while developing.
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadCluster } from '../model/load.ts';
import { labUp } from '../providers/lab/bring-up.ts';
import { LabProvider, readLabState } from '../providers/lab/lab.ts';

export const LAB_CONFIG = resolve(import.meta.dirname, '../../fixtures/lab/cluster.yaml');

export default async function setup(project: TestProject) {
  const cluster = loadCluster(LAB_CONFIG);
  const log = (l: string) => process.stderr.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${l}\n`);
  project.provide('labConfig', LAB_CONFIG);
  if (process.env.HARDWAY_TEST_REUSE_LAB && readLabState(cluster.name)) {
    log('reusing the running lab (HARDWAY_TEST_REUSE_LAB)');
    return;
  }
  if (readLabState(cluster.name)) {
    // Never replace (and then remove) a lab someone brought up by hand.
    throw new Error(
      `a lab named "${cluster.name}" is already running (hardway lab up); the lab tests would replace it and remove it. fix: hardway lab down, or HARDWAY_TEST_REUSE_LAB=1 to run the tests against it`,
    );
  }
  const times = await labUp({
    cluster,
    configPath: LAB_CONFIG,
    binaries: (process.env.HARDWAY_BINARIES as 'build' | 'download') ?? 'build',
    progress: log,
  });
  log(`lab up in ${(times.total! / 1000).toFixed(1)} s`);
  return async () => {
    log('removing the lab');
    await new LabProvider(cluster, LAB_CONFIG).down(log);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    labConfig: string;
  }
}
