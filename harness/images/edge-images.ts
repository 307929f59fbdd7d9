// Images of the HTTPS edge (cluster.ingress), built on this machine because no registry can be
// reached: cert-manager's four commands, each alone in an image that runs as a non-root user like
// upstream's distroless ones, and the gateway image: NGINX Gateway Fabric's control plane next to
// Debian trixie's nginx with its njs and stream modules (NGF's own nginx image pairs NGINX OSS with
// njs the same way). They reuse the pod-image cache (recipe-keyed OCI tars under ~/.cache/hardway).
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CERT_MANAGER_VERSION, NGF_VERSION } from '../binaries/manifest.ts';
import type { BinarySet } from '../binaries/binaries.ts';
import { buildPodImages, type PodImageRecipe } from './pod-images.ts';
import { ImageBuildError, run } from './run.ts';

export const CERT_MANAGER_IMAGES = {
  controller: `hardway.local/cert-manager-controller:${CERT_MANAGER_VERSION}`,
  webhook: `hardway.local/cert-manager-webhook:${CERT_MANAGER_VERSION}`,
  cainjector: `hardway.local/cert-manager-cainjector:${CERT_MANAGER_VERSION}`,
  acmesolver: `hardway.local/cert-manager-acmesolver:${CERT_MANAGER_VERSION}`,
} as const;
export const GATEWAY_IMAGE = `hardway.local/nginx-gateway:${NGF_VERSION}`;

/** The user cert-manager's images run as (upstream's distroless "nonroot"). */
export const NONROOT = '65532:65532';
/** Root CAs for public ACME servers (Let's Encrypt on prod targets); the lab's CA comes in caBundle. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const NGINX_SUITE = 'trixie';
const NGINX_PACKAGES = ['nginx', 'libnginx-mod-stream', 'libnginx-mod-http-js'];

/**
 * NGF's nginx.conf (internal/mode/static/nginx/conf/nginx.conf of v1.6.2) for Debian's build: the
 * stream module is a dynamic module there (built in upstream's), so it is loaded explicitly.
 */
export const GATEWAY_NGINX_CONF = `load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
include /etc/nginx/main-includes/*.conf;

worker_processes auto;

pid /var/run/nginx/nginx.pid;

events {
  worker_connections 1024;
}

http {
  include /etc/nginx/conf.d/*.conf;
  include /etc/nginx/mime.types;
  js_import /usr/lib/nginx/modules/njs/httpmatches.js;

  default_type application/octet-stream;

  proxy_headers_hash_bucket_size 512;
  proxy_headers_hash_max_size 1024;
  server_names_hash_bucket_size 256;
  server_names_hash_max_size 1024;
  variables_hash_bucket_size 512;
  variables_hash_max_size 1024;

  sendfile on;
  tcp_nopush on;

  server_tokens off;

  server {
    listen unix:/var/run/nginx/nginx-status.sock;
    access_log off;

    location /stub_status {
        stub_status;
    }
  }
}

stream {
  variables_hash_bucket_size 512;
  variables_hash_max_size 1024;

  map_hash_max_size 2048;
  map_hash_bucket_size 256;

  log_format stream-main '$remote_addr [$time_local] '
                         '$protocol $status $bytes_sent $bytes_received '
                         '$session_time "$ssl_preread_server_name"';
  access_log /dev/stdout stream-main;
  include /etc/nginx/stream-conf.d/*.conf;
}
`;

/** Where the Go module cache holds a module's source (downloading it through the proxy if needed). */
export async function goModuleDir(module: string, version: string): Promise<string> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'go',
      ['mod', 'download', '-json', `${module}@${version}`],
      { env: { ...process.env, GOFLAGS: '-mod=mod' }, cwd: '/' },
      (err, stdout) => {
        if (err && !stdout) reject(new ImageBuildError(`go mod download ${module}@${version} failed: ${err.message.split('\n')[0]}`));
        else resolve(stdout);
      },
    );
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new ImageBuildError(`${module}@${version} is not available through the Go module proxy: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

function certManagerImage(cmd: keyof typeof CERT_MANAGER_IMAGES, binary: string): PodImageRecipe {
  return {
    name: CERT_MANAGER_IMAGES[cmd],
    config: { entrypoint: [`/usr/bin/cert-manager-${cmd}`], user: NONROOT },
    sources: [binary, HOST_CA_BUNDLE],
    inputs: { cmd },
    async build() {
      return [
        { type: 'file', path: `/usr/bin/cert-manager-${cmd}`, mode: 0o755, source: binary },
        { type: 'file', path: HOST_CA_BUNDLE, mode: 0o644, source: HOST_CA_BUNDLE },
        {
          type: 'file',
          path: '/etc/passwd',
          mode: 0o644,
          content: 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
        },
        { type: 'file', path: '/etc/group', mode: 0o644, content: 'root:x:0:\nnonroot:x:65532:\n' },
        { type: 'dir', path: '/tmp', mode: 0o1777 },
        { type: 'dir', path: '/home/nonroot', mode: 0o755 },
      ];
    },
  };
}

/** nginx and its modules from Debian (debootstrap, then apt-get with services kept from starting). */
async function debianNginxRoot(work: string, progress: (s: string) => void): Promise<string> {
  if (process.getuid?.() !== 0) throw new ImageBuildError('building the gateway image needs root (debootstrap, chroot)');
  const root = join(work, 'rootfs');
  const mirror = process.env.HARDWAY_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  progress(`debootstrap ${NGINX_SUITE} (minbase, about a minute)`);
  await run('debootstrap', ['--variant=minbase', NGINX_SUITE, root, mirror], { what: `debootstrap ${NGINX_SUITE}` });
  // A package's postinst must not start nginx inside the build chroot (the host's network).
  await writeFile(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
  await chmod(join(root, 'usr/sbin/policy-rc.d'), 0o755);
  await copyFile('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  progress(`apt-get install ${NGINX_PACKAGES.join(' ')}`);
  await run(
    'chroot',
    [
      root,
      'sh',
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${NGINX_PACKAGES.join(' ')} >/dev/null && apt-get clean`,
    ],
    { what: `apt-get install ${NGINX_PACKAGES.join(' ')}` },
  );
  await run('chroot', [root, 'nginx', '-V'], { what: 'nginx -V' });
  // Only what a container needs: no device nodes, caches, docs or the site nginx ships enabled.
  for (const p of [
    'dev',
    'proc',
    'sys',
    'run',
    'tmp',
    'var/cache/apt',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/locale',
    'usr/share/info',
    'etc/nginx/sites-enabled',
    'etc/nginx/modules-enabled',
    'var/log/nginx',
  ]) {
    await rm(join(root, p), { recursive: true, force: true });
  }
  await rm(join(root, 'usr/sbin/policy-rc.d'), { force: true });
  await writeFile(join(root, 'etc/resolv.conf'), '');
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'var/log/nginx']) await mkdir(join(root, d), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  return root;
}

function gatewayImage(binary: string, ngfDir: string): PodImageRecipe {
  const njs = join(ngfDir, 'internal/mode/static/nginx/modules/src/httpmatches.js');
  const conf = join(ngfDir, 'internal/mode/static/nginx/conf');
  return {
    name: GATEWAY_IMAGE,
    config: { entrypoint: ['/usr/bin/gateway'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    sources: [binary, njs, join(conf, 'grpc-error-locations.conf'), join(conf, 'grpc-error-pages.conf')],
    inputs: { suite: NGINX_SUITE, packages: NGINX_PACKAGES, nginxConf: GATEWAY_NGINX_CONF },
    async build(work, progress) {
      const root = await debianNginxRoot(work, progress);
      const add = async (from: string, to: string, mode: number) => {
        await mkdir(join(root, to, '..'), { recursive: true });
        await copyFile(from, join(root, to));
        await chmod(join(root, to), mode);
      };
      await add(binary, 'usr/bin/gateway', 0o755);
      await add(njs, 'usr/lib/nginx/modules/njs/httpmatches.js', 0o644);
      await add(join(conf, 'grpc-error-locations.conf'), 'etc/nginx/grpc-error-locations.conf', 0o644);
      await add(join(conf, 'grpc-error-pages.conf'), 'etc/nginx/grpc-error-pages.conf', 0o644);
      await writeFile(join(root, 'etc/nginx/nginx.conf'), GATEWAY_NGINX_CONF);
      for (const d of [
        'var/run/nginx',
        'var/cache/nginx',
        'etc/nginx/conf.d',
        'etc/nginx/stream-conf.d',
        'etc/nginx/main-includes',
        'etc/nginx/secrets',
        'etc/nginx/includes',
      ]) {
        await mkdir(join(root, d), { recursive: true });
      }
      for (const f of await readdir(join(root, 'etc/nginx/conf.d'))) await rm(join(root, 'etc/nginx/conf.d', f), { force: true });
      return root;
    },
  };
}

/** Builds (or finds in the cache) the edge's images from the edge binaries. */
export async function buildEdgeImages(
  binaries: BinarySet,
  cacheDir: string,
  progress: (l: string) => void,
): Promise<{ name: string; tar: string }[]> {
  const bin = (b: string) => {
    const p = binaries.get(b);
    if (!p) throw new ImageBuildError(`binary ${b} is missing from the edge binary set`);
    return p;
  };
  const ngfDir = await goModuleDir('github.com/nginxinc/nginx-gateway-fabric', NGF_VERSION);
  return buildPodImages({
    cacheDir,
    onProgress: progress,
    images: [
      certManagerImage('controller', bin('cert-manager-controller')),
      certManagerImage('webhook', bin('cert-manager-webhook')),
      certManagerImage('cainjector', bin('cert-manager-cainjector')),
      certManagerImage('acmesolver', bin('cert-manager-acmesolver')),
      gatewayImage(bin('nginx-gateway'), ngfDir),
    ],
  });
}
