// A real browser for checks that need one (the ingress suite's visit): Playwright drives Debian's
// Chromium in this process; nothing else of Playwright Test is used (see README: the engine).
// Each check gets its own output folder under the run's artifacts; attachments go to the report.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchOptions } from '@playwright/test';
import type { BrowserAccess } from './check.ts';

export interface Attachment {
  check: string;
  host?: string;
  name: string;
  contentType: string;
  path: string;
}

export const CHROMIUM = process.env.HARDWAY_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep Chromium off the network except for what a check asks it to open. */
const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'];

export function browserAccess(artifactsDir: string, check: string, host: string | undefined, attachments: Attachment[]): BrowserAccess {
  const dir = join(artifactsDir, `${check}${host ? `-${host}` : ''}`);
  return {
    async launch(options: LaunchOptions = {}) {
      const { chromium } = await import('@playwright/test'); // loaded only by the check that needs it
      return chromium.launch({ executablePath: CHROMIUM, headless: true, ...options, args: [...QUIET, ...(options.args ?? [])] });
    },
    outputPath(name: string) {
      mkdirSync(dir, { recursive: true });
      return join(dir, name);
    },
    async attach(name: string, path: string, contentType: string) {
      attachments.push({ check, ...(host ? { host } : {}), name, contentType, path });
    },
  };
}
