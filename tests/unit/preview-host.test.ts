import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayServer } from '../../src/gateway/gateway-server.js';
import { previewHostMatcher, previewUrlFor } from '../../src/gateway/preview-host.js';
import { createPreviewProxyRoute } from '../../src/gateway/preview-proxy.js';
import { PreviewRegistry } from '../../src/gateway/preview-registry.js';
import { captureLogger } from '../helpers/test-env.js';

const TEMPLATE = 'https://{token}.preview.example.com';

describe('previews on their own origin (DEVBOT_PREVIEW_URL)', () => {
  it('makes one host per preview, with lowercase tokens, and matches only those hosts', () => {
    const registry = new PreviewRegistry({
      publicUrl: () => 'https://devbot.example.com',
      ttlSeconds: 60,
      previewUrlTemplate: TEMPLATE,
    });
    const url = registry.publish({ sandboxId: 'sb', port: 8000, socketPath: '/nonexistent' });
    expect(url).toMatch(/^https:\/\/[0-9a-f]{32}\.preview\.example\.com\/$/);
    const match = previewHostMatcher(TEMPLATE);
    const token = new URL(url).hostname.split('.')[0] as string;
    expect(match(`${token}.preview.example.com`)).toBe(token);
    expect(match(`${token.toUpperCase()}.PREVIEW.example.com:443`)).toBeNull();
    expect(match(`${token.toUpperCase()}.PREVIEW.example.com`)).toBe(token);
    expect(match('devbot.example.com')).toBeNull();
    expect(match(`a.b.${token}.preview.example.com`)).toBeNull();
    expect(match(`${token}.preview.example.com.evil.test`)).toBeNull();
    expect(previewUrlFor('http://{token}.p.test:8080/', 'abcdef12')).toBe('http://abcdef12.p.test:8080/');
  });

  describe('the gateway', () => {
    let app: Server;
    let gateway: GatewayServer;
    let base: string;
    let token: string;
    const seen: { url: string; prefix?: string; cookie?: string }[] = [];

    beforeAll(async () => {
      app = createServer((req, res) => {
        seen.push({
          url: req.url ?? '',
          ...(req.headers['x-forwarded-prefix'] ? { prefix: String(req.headers['x-forwarded-prefix']) } : {}),
          ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
        });
        res.end(`app saw ${req.url}`);
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      // The proxy speaks to a Unix socket; a second server on one stands in for the sandbox.
      const socketPath = join(mkdtempSync(join(tmpdir(), 'devbot-ph-')), 'app.sock');
      const sock = createServer((req, res) => app.emit('request', req, res));
      await new Promise<void>((r) => sock.listen(socketPath, r));
      const registry = new PreviewRegistry({
        publicUrl: () => base,
        ttlSeconds: 60,
        previewUrlTemplate: TEMPLATE,
      });
      token = new URL(registry.publish({ sandboxId: 'sb', port: 8000, socketPath })).hostname.split(
        '.',
      )[0] as string;
      const api = new Hono();
      api.all('*', (c) => c.text('the API'));
      gateway = new GatewayServer({
        api: api as never,
        stream: { matches: () => false, upgrade: () => {}, close: () => {} } as never,
        rawRoutes: [createPreviewProxyRoute(registry)],
        logger: captureLogger().logger,
        previewUrlTemplate: TEMPLATE,
      });
      const address = await gateway.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(address as AddressInfo).port}`;
    });
    afterAll(async () => {
      await gateway?.close();
      app?.closeAllConnections();
      await new Promise((r) => app?.close(r));
    });

    const get = (host: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${base}${path}`, { headers: { host, ...headers } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });

    it('serves a preview host from the root, without the gateway cookie or a path prefix', async () => {
      const res = await get(`${token}.preview.example.com`, '/app/page?x=1', {
        cookie: 'devbot_session=secret',
      });
      expect(res).toEqual({ status: 200, body: 'app saw /app/page?x=1' });
      expect(seen.at(-1)).toEqual({ url: '/app/page?x=1' });
    });

    it('never serves the API or the dashboard on a preview host, and the API stays on its own', async () => {
      expect((await get(`${token}.preview.example.com`, '/tasks')).body).toBe('app saw /tasks');
      expect((await get(`${'0'.repeat(32)}.preview.example.com`, '/tasks')).status).toBe(404);
      expect((await get('devbot.example.com', '/tasks')).body).toBe('the API');
    });
  });
});
