// Access to the Docker engine through testcontainers, with the one-line errors a user needs when
// the engine is missing or stopped.
import { existsSync } from 'node:fs';
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { UserFacingError } from '../../cli/errors.ts';

// testcontainers' reaper (Ryuk) is an image from a registry, which cannot be pulled here; the
// lab removes what it creates itself (see lab.ts).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

let client: Promise<ContainerRuntimeClient> | undefined;

export function docker(): Promise<ContainerRuntimeClient> {
  const host = process.env.DOCKER_HOST;
  // An explicit DOCKER_HOST is what the user meant: never fall back to another engine.
  if (host?.startsWith('unix://') && !existsSync(host.slice('unix://'.length))) {
    return Promise.reject(
      new UserFacingError(
        `the Docker engine is not reachable at ${host} (no such socket); fix: install it (apt-get install docker.io) and start it (systemctl start docker, or run dockerd in the background), or correct DOCKER_HOST`,
      ),
    );
  }
  client ??= getContainerRuntimeClient().catch((e: Error) => {
    client = undefined;
    const socket = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    throw new UserFacingError(
      `the Docker engine is not reachable at ${socket} (${e.message.split('\n')[0]}); fix: install it (apt-get install docker.io) and start it (systemctl start docker, or run dockerd in the background)`,
    );
  });
  return client;
}
