import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContractHarness } from '../../sandbox/contract.js';
import {
  LocalSandboxProvider,
  type LocalSandboxProviderOptions,
} from '../../sandbox/local/local-sandbox-provider.js';
import { createPreviewProxyRoute } from '../../src/gateway/preview-proxy.js';
import { PreviewRegistry } from '../../src/gateway/preview-registry.js';

export interface LocalHarness extends ContractHarness {
  provider: LocalSandboxProvider;
  previews: PreviewRegistry;
  baseDir: string;
  url: string;
  server: Server;
}

/** A local provider in a temp dir plus a bare HTTP server that serves only the preview proxy. */
export async function startLocalHarness(
  options: Partial<Omit<LocalSandboxProviderOptions, 'baseDir' | 'previews'>> = {},
): Promise<LocalHarness> {
  const baseDir = await mkdtemp(join(tmpdir(), 'devbot-sbx-'));
  let url = 'http://127.0.0.1:0';
  const previews = new PreviewRegistry({ publicUrl: () => url, ttlSeconds: 600 });
  const route = createPreviewProxyRoute(previews);
  const server = createServer((req, res) => {
    if (req.url?.startsWith(route.prefix)) void route.handle(req, res);
    else res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => route.upgrade?.(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new LocalSandboxProvider({ baseDir, previews, warm: 0, ...options });
  return {
    provider,
    previews,
    baseDir,
    url,
    server,
    async fetchPreview(target: string) {
      const res = await fetch(target);
      return { status: res.status, body: await res.text() };
    },
    async close() {
      // Persistent sandboxes outlive close() (their volumes stay mounted): destroy them all, or
      // removing the directory would trip over their mounts.
      for (const id of await provider.listIds()) await provider.destroy(id);
      await provider.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}
