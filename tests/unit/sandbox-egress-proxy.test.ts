/**
 * The local sandbox's way out, on its own: the allowlist (domains and their subdomains, never IP
 * literals), internal addresses refused even for allowed names, CONNECT tunnels and plain HTTP
 * forwarded, everything else answered 403 with the reason.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EgressProxy, isAllowedHost, startEgressProxy } from '../../sandbox/local/egress-proxy.js';
import { isInternalAddress } from '../../sandbox/local/is-internal-address.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

let upstream: Server;
let port: number;
const dir = tempDir('devbot-egress-');

beforeAll(async () => {
  upstream = createServer((req, res) =>
    res.end(`upstream saw ${req.method} ${req.url} host=${req.headers.host}`),
  );
  await new Promise<void>((r) => upstream.listen(0, '::', r));
  port = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => upstream.close(r));
  removeDir(dir);
});

/** One request through the proxy's Unix socket; CONNECT returns the raw tunnel answer. */
function viaProxy(
  socketPath: string,
  options: { method?: string; path: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      method: options.method ?? 'GET',
      path: options.path,
      headers: { host: 'x' },
    });
    req.on('connect', (res, socket, head) => {
      let body = head.toString();
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body });
        return;
      }
      socket.write(`GET /tunnel HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`);
      socket.on('data', (c: Buffer) => {
        body += c.toString();
      });
      socket.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('egress policy', () => {
  it('allows a domain and its subdomains, nothing else, and never an IP literal', () => {
    const allowed = ['registry.npmjs.org', 'github.com', '.pypi.org'];
    expect(isAllowedHost('registry.npmjs.org', allowed)).toBe(true);
    expect(isAllowedHost('API.GitHub.com.', allowed)).toBe(true);
    expect(isAllowedHost('files.pypi.org', allowed)).toBe(true);
    expect(isAllowedHost('evilgithub.com', allowed)).toBe(false);
    expect(isAllowedHost('github.com.evil.net', allowed)).toBe(false);
    expect(isAllowedHost('140.82.112.3', allowed)).toBe(false);
    expect(isAllowedHost('anything', [])).toBe(false);
  });

  it('knows internal addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.5',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ])
      expect(isInternalAddress(a), a).toBe(true);
    for (const a of ['104.16.1.34', '140.82.112.3', '2606:4700::6810:122'])
      expect(isInternalAddress(a), a).toBe(false);
  });

  it('judges IPv6 forms that carry an IPv4 address by it, or refuses them outright', () => {
    // Decoded, then judged as IPv4: IPv4-mapped (either notation) and NAT64's well-known prefix.
    for (const a of [
      '::ffff:7f00:1',
      '::FFFF:a9fe:a9fe',
      '64:ff9b::7f00:1',
      '64:ff9b::127.0.0.1',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::10.0.0.5',
      '64:ff9b:0:0:0:0:c0a8:101',
    ])
      expect(isInternalAddress(a), a).toBe(true);
    for (const a of ['::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '64:ff9b::808:808'])
      expect(isInternalAddress(a), a).toBe(false);
    // Refused whatever they embed: local-use NAT64, 6to4, Teredo, IPv4-compatible, SIIT.
    for (const a of [
      '64:ff9b:1::7f00:1',
      '64:ff9b:1:ffff::808:808',
      '2002:7f00:1::1',
      '2002:808:808::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '::127.0.0.1',
      '::8.8.8.8',
      '::7f00:1',
      '::ffff:0:7f00:1',
      'fe80::1%eth0',
      'fec0::1',
      '192.88.99.1',
      'not-an-address',
    ])
      expect(isInternalAddress(a), a).toBe(true);
  });
});

describe('egress proxy', () => {
  let proxy: EgressProxy;
  let strict: EgressProxy;
  const denied: string[] = [];
  beforeAll(async () => {
    proxy = await startEgressProxy(join(dir, 'open.sock'), {
      allowedDomains: ['localhost'],
      connectPorts: [port],
      httpPorts: [port],
      allowPrivateAddresses: true,
      onDenied: (host, reason) => denied.push(`${host}: ${reason}`),
    });
    strict = await startEgressProxy(join(dir, 'strict.sock'), {
      allowedDomains: ['localhost'],
      connectPorts: [port],
    });
  });
  afterAll(async () => {
    await proxy.close();
    await strict.close();
  });

  it('forwards plain HTTP and CONNECT tunnels to allowed hosts', async () => {
    const plain = await viaProxy(proxy.socketPath, { path: `http://localhost:${port}/a?b=1` });
    expect(plain).toEqual({ status: 200, body: `upstream saw GET /a?b=1 host=localhost:${port}` });
    // Plain HTTP only to its ports: any other port is refused with the reason.
    const other = await viaProxy(proxy.socketPath, { path: 'http://localhost:1/' });
    expect(other.status).toBe(403);
    expect(other.body).toMatch(new RegExp(`only http to port ${port} and CONNECT to ${port}`));
    const tunnel = await viaProxy(proxy.socketPath, { method: 'CONNECT', path: `localhost:${port}` });
    expect(tunnel.status).toBe(200);
    expect(tunnel.body).toContain('upstream saw GET /tunnel host=localhost');
  });

  it('refuses hosts off the allowlist, ports not allowed, and internal addresses', async () => {
    const off = await viaProxy(proxy.socketPath, { method: 'CONNECT', path: `example.org:${port}` });
    expect(off.status).toBe(403);
    expect(off.body).toMatch(
      /example\.org is not reachable from this sandbox: not on the allowlist \(DEVBOT_SANDBOX_ALLOWED_DOMAINS\)/,
    );
    const wrongPort = await viaProxy(proxy.socketPath, { method: 'CONNECT', path: 'localhost:22' });
    expect(wrongPort.status).toBe(403);
    expect(wrongPort.body).toMatch(/CONNECT only to port/);
    const literal = await viaProxy(proxy.socketPath, { method: 'CONNECT', path: `127.0.0.1:${port}` });
    expect(literal.status).toBe(403);
    // An allowed name that resolves to the host itself: refused unless the policy says otherwise.
    const internal = await viaProxy(strict.socketPath, { method: 'CONNECT', path: `localhost:${port}` });
    expect(internal.status).toBe(403);
    expect(internal.body).toMatch(/resolves to an internal address/);
    expect(denied.some((d) => d.startsWith('example.org: not on the allowlist'))).toBe(true);
  });

  it('refuses an allowed name that resolves to NAT64, 6to4 or IPv4-compatible forms of internal addresses', async () => {
    for (const address of ['64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '2002:a00:1::1', '::127.0.0.1']) {
      const refusedHere: string[] = [];
      const tricked = await startEgressProxy(join(dir, 'nat64.sock'), {
        allowedDomains: ['allowed.example'],
        connectPorts: [443],
        // A DNS answer the sandbox's owner controls (DNS64, or a record of their own).
        lookup: async () => [{ address }],
        onDenied: (host, reason) => refusedHere.push(`${host}: ${reason}`),
      });
      try {
        const r = await viaProxy(tricked.socketPath, { method: 'CONNECT', path: 'allowed.example:443' });
        expect(r.status, address).toBe(403);
        expect(r.body).toMatch(/resolves to an internal address/);
        expect(refusedHere).toEqual(['allowed.example: it resolves to an internal address']);
      } finally {
        await tricked.close();
      }
    }
  });
});
