/**
 * A local sandbox with network access goes out only through the host's egress proxy: plain HTTP
 * and CONNECT tunnels to allowed hosts work from ordinary tools (Python's urllib and http.client
 * read the proxy variables), other hosts get a 403 that says why, and there is still no direct
 * route out. Without a policy, asking for network is refused with what to set.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSandboxProvider } from '../../sandbox/local/local-sandbox-provider.js';
import { defaultSandboxProvider } from '../../src/app/modules/sandbox-module.js';
import { loadConfig } from '../../src/config/config.js';
import type { Sandbox } from '../../src/core/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { type LocalHarness, startLocalHarness } from '../helpers/sandbox-harness.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

/** The provider as devbot builds it from its config, with the network allowlist on. */
function wiredProvider(dataDir: string) {
  return defaultSandboxProvider({
    config: loadConfig({ DEVBOT_SANDBOX_NETWORK: 'allowlist', DEVBOT_DATA_DIR: dataDir }),
    previews: harness.previews,
    logger: createLogger({ level: 'silent' }),
    metrics: new Metrics(),
    role: 'all',
    redis: undefined as never,
  });
}

let upstream: Server;
let port: number;
let harness: LocalHarness;
let sandbox: Sandbox;

beforeAll(async () => {
  upstream = createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
  await new Promise<void>((r) => upstream.listen(0, '::', r));
  port = (upstream.address() as AddressInfo).port;
  harness = await startLocalHarness({
    network: {
      allowedDomains: ['localhost'],
      connectPorts: [port],
      httpPorts: [port],
      // The test's upstream is on this host; real policies refuse internal addresses.
      allowPrivateAddresses: true,
    },
  });
  sandbox = await harness.provider.create({ taskId: 'net', network: true });
});
afterAll(async () => {
  await sandbox?.close();
  await harness?.close();
  await new Promise((r) => upstream.close(r));
});

const registryReachable = await lookup('registry.npmjs.org').then(
  () => true,
  () => false,
);

const py = (code: string) => `python3 - <<'EOF'\n${code}\nEOF`;
/** The upstream is `localhost`, which the proxy variables exempt; send it through the proxy here. */
const viaProxy = { env: { NO_PROXY: '', no_proxy: '' } };

describe('local sandbox network access', () => {
  it('reaches an allowed host over plain HTTP and through a CONNECT tunnel', async () => {
    const plain = await sandbox.exec(
      py(
        `import urllib.request\nprint(urllib.request.urlopen('http://localhost:${port}/plain').read().decode())`,
      ),
      viaProxy,
    );
    expect(plain.stderr).toBe('');
    expect(plain.stdout.trim()).toBe('upstream saw GET /plain');
    const tunnel = await sandbox.exec(
      py(
        `import http.client\nc = http.client.HTTPConnection('127.0.0.1', 3128, timeout=10)\nc.set_tunnel('localhost', ${port})\nc.request('GET', '/tunnel')\nprint(c.getresponse().read().decode())`,
      ),
    );
    expect(tunnel.stdout.trim()).toBe('upstream saw GET /tunnel');
  });

  it('answers other hosts with a 403 that says why, and has no direct route out', async () => {
    const off = await sandbox.exec(
      py(
        `import urllib.request, urllib.error\ntry:\n    urllib.request.urlopen('http://example.org:${port}/')\nexcept urllib.error.HTTPError as e:\n    print(e.code, e.read().decode().strip())`,
      ),
    );
    expect(off.stdout).toMatch(
      /^403 devbot: example\.org is not reachable from this sandbox: not on the allowlist/,
    );
    const direct = await sandbox.exec(
      py(
        `import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\n    print('connected')\nexcept OSError as e:\n    print('no route:', e)`,
      ),
    );
    expect(direct.stdout).toMatch(/^no route:/);
  });

  it("keeps a chat's persistent sandbox on the network across reattaching, while the policy allows it", async () => {
    const chat = await harness.provider.create({ taskId: 'chat', persistent: true, network: true });
    expect(chat.network).toBe(true);
    await chat.close();
    const again = await harness.provider.connect!(chat.id);
    expect(again?.network).toBe(true);
    const fetched = await again!.exec(
      py(
        `import urllib.request\nprint(urllib.request.urlopen('http://localhost:${port}/again').read().decode())`,
      ),
      viaProxy,
    );
    expect(fetched.stdout.trim()).toBe('upstream saw GET /again');
    await again!.close();
    // The same sandbox under a provider whose policy no longer allows network: offline.
    const offline = new LocalSandboxProvider({
      baseDir: harness.baseDir,
      previews: harness.previews,
      warm: 0,
    });
    try {
      const reopened = await offline.connect(chat.id);
      expect(reopened?.network).toBe(false);
      expect((await reopened!.exec('echo "[$HTTPS_PROXY]"')).stdout).toBe('[]\n');
      await reopened!.close();
    } finally {
      await offline.close();
    }
    await harness.provider.destroy!(chat.id);
  });

  it('is wired from DEVBOT_SANDBOX_NETWORK=allowlist', async () => {
    const dataDir = tempDir('devbot-net-config-');
    const provider = wiredProvider(dataDir);
    try {
      const box = await provider.create({ taskId: 'wired', network: true });
      expect((await box.exec('echo "$HTTPS_PROXY $NO_PROXY"')).stdout).toBe(
        'http://127.0.0.1:3128 localhost,127.0.0.1,::1\n',
      );
      await box.close();
    } finally {
      await provider.close();
      removeDir(dataDir);
    }
  });

  // The real registry, when this machine can reach it (CI can: it installs from it).
  it.skipIf(!registryReachable)(
    'lets npm reach the public registry with the default allowlist, and nothing else',
    async () => {
      const dataDir = tempDir('devbot-net-npm-');
      const provider = wiredProvider(dataDir);
      try {
        const box = await provider.create({ taskId: 'npm', network: true });
        const view = await box.exec('npm view left-pad@1.3.0 version', { timeoutMs: 60_000 });
        expect(view.stdout.trim()).toBe('1.3.0');
        const other = await box.exec(
          py(
            `import urllib.request, urllib.error\ntry:\n    urllib.request.urlopen('https://example.com/', timeout=20)\nexcept urllib.error.URLError as e:\n    print(e)`,
          ),
        );
        expect(other.stdout).toMatch(/403/);
        await box.close();
      } finally {
        await provider.close();
        removeDir(dataDir);
      }
    },
    90_000,
  );

  it('gives sandboxes without network no proxy, and refuses network where no policy is set', async () => {
    const plain = await harness.provider.create({ taskId: 'no-net' });
    try {
      expect((await plain.exec('echo "[$HTTPS_PROXY]"')).stdout).toBe('[]\n');
    } finally {
      await plain.close();
    }
    const noPolicy = await startLocalHarness();
    try {
      await expect(noPolicy.provider.create({ taskId: 'x', network: true })).rejects.toThrow(
        /network access for local sandboxes is off: set DEVBOT_SANDBOX_NETWORK=allowlist/,
      );
    } finally {
      await noPolicy.close();
    }
  });
});
