/**
 * The way out of a local sandbox that may use the network (DESIGN.md §4): the sandbox has no
 * network of its own; its supervisor listens on 127.0.0.1:3128 inside and passes each connection
 * to this HTTP proxy, which listens on a Unix socket in the sandbox's run directory on the host.
 * It serves `CONNECT host:443` (HTTPS, end to end encrypted) and plain `GET http://host/...` on
 * port 80, only for hosts on the allowlist (a domain and its subdomains), and only to public
 * addresses: a name that resolves to a loopback, private, link-local or otherwise internal
 * address is refused, so an allowed name cannot be pointed at the host's Postgres, Redis or a
 * cloud metadata endpoint. Anything else gets a 403 that says why.
 */
import { lookup } from 'node:dns/promises';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { BlockList, connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { relay, stripHopByHop } from '../../src/http/relay.js';

export interface EgressPolicy {
  /** Domains the sandbox may reach, each with its subdomains (`github.com` allows `api.github.com`). */
  allowedDomains: readonly string[];
  /** Ports a CONNECT may ask for. Default 443. */
  connectPorts?: readonly number[];
  /** Ports plain `http://` requests may go to. Default 80. */
  httpPorts?: readonly number[];
  /** Tests only: let allowed names resolve to loopback and private addresses. */
  allowPrivateAddresses?: boolean;
  /** Called once per refused request, for the logs. */
  onDenied?: (host: string, reason: string) => void;
}

export interface EgressProxy {
  readonly socketPath: string;
  close(): Promise<void>;
}

const internal = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(net, bits, 'ipv6');

export function isInternalAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address is judged by its IPv4 part.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const candidate = mapped ?? address;
  const family = isIP(candidate);
  if (family === 0) return true;
  return internal.check(candidate, family === 4 ? 'ipv4' : 'ipv6');
}

export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isIP(name) !== 0) return false;
  return allowed.some((d) => {
    const domain = d.toLowerCase().replace(/^\*?\./, '');
    return domain !== '' && (name === domain || name.endsWith(`.${domain}`));
  });
}

export async function startEgressProxy(socketPath: string, policy: EgressPolicy): Promise<EgressProxy> {
  const connectPorts = policy.connectPorts ?? [443];
  const httpPorts = policy.httpPorts ?? [80];
  const deny = (host: string, reason: string): string => {
    policy.onDenied?.(host, reason);
    return `devbot: ${host} is not reachable from this sandbox: ${reason}\n`;
  };

  /** The address to connect to, or why not. */
  const resolveAllowed = async (host: string): Promise<{ address: string } | { refused: string }> => {
    if (!isAllowedHost(host, policy.allowedDomains))
      return { refused: deny(host, 'not on the allowlist (DEVBOT_SANDBOX_ALLOWED_DOMAINS)') };
    let addresses: { address: string }[];
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      return { refused: deny(host, 'the name does not resolve') };
    }
    const usable = policy.allowPrivateAddresses
      ? addresses
      : addresses.filter((a) => !isInternalAddress(a.address));
    if (usable.length === 0 || usable.length !== addresses.length)
      return { refused: deny(host, 'it resolves to an internal address') };
    return { address: usable[0]!.address };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end('devbot: send absolute URLs (a proxy request)\n');
        return;
      }
      const targetPort = Number(target.port || 80);
      if (target.protocol !== 'http:' || !httpPorts.includes(targetPort)) {
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end(
            deny(
              target.host,
              `only http to port ${httpPorts.join(', ')} and CONNECT to ${connectPorts.join(', ')}`,
            ),
          );
        return;
      }
      const found = await resolveAllowed(target.hostname);
      if ('refused' in found) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end(found.refused);
        return;
      }
      const upstream = request({
        host: found.address,
        port: targetPort,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: { ...stripHopByHop(req.headers), host: target.host },
      });
      relay(req, res, upstream, (r) => r.writeHead(502, { 'content-type': 'text/plain' }).end());
    })();
  });

  /** CONNECT tunnels leave the HTTP server's bookkeeping: closed here on close(). */
  const tunnels = new Set<Duplex>();
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    tunnels.add(client);
    client.once('close', () => tunnels.delete(client));
    void (async () => {
      const [host = '', portText = ''] = splitHostPort(req.url ?? '');
      const port = Number(portText);
      const refuse = (text: string) => {
        client.end(
          `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
        );
      };
      if (!connectPorts.includes(port))
        return refuse(deny(host || String(req.url), `CONNECT only to port ${connectPorts.join(', ')}`));
      const found = await resolveAllowed(host);
      if ('refused' in found) return refuse(found.refused);
      const upstream: Socket = connect({ host: found.address, port });
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      const closeBoth = () => {
        upstream.destroy();
        client.destroy();
      };
      upstream.on('error', () => {
        if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
        closeBoth();
      });
      client.on('error', closeBoth);
      client.on('close', () => upstream.destroy());
    })();
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The sandbox's uid connects to it (root created it).
  await chmod(socketPath, 0o666);
  return {
    socketPath,
    close: async () => {
      for (const tunnel of tunnels) tunnel.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

function splitHostPort(authority: string): [string, string] {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(authority);
  if (bracketed) return [bracketed[1]!, bracketed[2]!];
  const at = authority.lastIndexOf(':');
  return at < 0 ? [authority, ''] : [authority.slice(0, at), authority.slice(at + 1)];
}
