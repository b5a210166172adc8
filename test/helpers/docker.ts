import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { dockerConnection } from '../../src/agent/runtimes/docker/docker-runtime.js';

/** The engine the docker tests use: FERRY_TEST_DOCKER_HOST, else DOCKER_HOST, else the default socket. */
export const TEST_DOCKER_HOST = process.env.FERRY_TEST_DOCKER_HOST ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
/** An image with this machine's Node.js and busybox, built locally (no registry is reachable). */
export const TEST_IMAGE = `ferry-test/node:${process.version.slice(1)}`;

export function testDocker(): Docker {
  return new Docker(dockerConnection(TEST_DOCKER_HOST));
}

/** Whether the test engine answers. Under CI it must: a missing engine fails the run instead of skipping the docker tests. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await testDocker().ping();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`a Docker Engine at ${TEST_DOCKER_HOST} is required under CI: ${(err as Error).message}`);
    return false;
  }
}

/**
 * Builds TEST_IMAGE once per engine: a root filesystem holding the node binary with the shared
 * libraries it links, and busybox for sh and sleep, imported with `docker import`'s API.
 */
export async function ensureTestImage(): Promise<string> {
  const docker = testDocker();
  if (await docker.getImage(TEST_IMAGE).inspect().then(() => true, () => false)) return TEST_IMAGE;
  const root = mkdtempSync(join(tmpdir(), 'ferry-image-'));
  try {
    const put = (from: string, to = from): void => {
      mkdirSync(join(root, dirname(to)), { recursive: true });
      copyFileSync(realpathSync(from), join(root, to));
    };
    put(process.execPath, '/usr/bin/node');
    const ldd = execFileSync('ldd', [process.execPath], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(\/\S+\.so[^\s]*)/g)) put(m[1]!);
    put(busybox(), '/bin/busybox');
    for (const tool of ['sh', 'sleep', 'kill', 'cat', 'ls', 'true', 'echo', 'ps']) symlinkSync('busybox', join(root, 'bin', tool));
    mkdirSync(join(root, 'tmp'));
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [repo, tag] = TEST_IMAGE.split(':') as [string, string];
    const stream = await docker.importImage(tar.stdout as unknown as string, { repo, tag });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))));
    return TEST_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function busybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      readFileSync(p, { flag: 'r' }).subarray(0, 1);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error('busybox is needed to build the docker test image: apt-get install -y busybox-static');
}

/**
 * Whether a pid of a process inside a container (as the process saw itself, in its own pid
 * namespace) still runs, looked up through /proc's NSpid on the host.
 */
export function containerPidRunning(pid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    const ns = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (!ns || ns.length < 2 || Number(ns[ns.length - 1]) !== pid) continue;
    if (/^State:\s+Z/m.test(status)) continue;
    return true;
  }
  return false;
}
