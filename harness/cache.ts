// Where hardway keeps what outlives a run but never belongs in the repo: built binaries, images,
// the running lab's state (SSH key, known_hosts). Override with HARDWAY_CACHE.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CACHE_DIR = process.env.HARDWAY_CACHE ?? join(homedir(), '.cache', 'hardway');
