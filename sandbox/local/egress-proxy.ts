/**
 * The way out of a local sandbox that may use the network (DESIGN.md §4): the sandbox has no
 * network of its own; its supervisor listens on 127.0.0.1:3128 inside and passes each connection
 * to this HTTP proxy, which listens on a Unix socket in the sandbox's run directory on the host.
 * It serves `CONNECT host:443` (HTTPS, end to end encrypted) and plain `GET http://host/...` on
 * port 80, only for hosts on the allowlist (a domain and its subdomains), and only to public
 * addresses: a name that resolves to a loopback, private, link-local or otherwise internal
 * address is refused (see is-internal-address.ts for IPv6 forms that carry IPv4), so an allowed
 * name cannot be pointed at the host's Postgres, Redis or a cloud metadata endpoint. Anything else
 * gets a 403 that says why.
 */
import { lookup } from 'node:dns/promises';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { relay, stripHopByHop } from '../../src/http/relay.js';
import { isInternalAddress } from './is-internal-address.js';

export interface EgressPolicy {
  /** Domains the sandbox may reach, each with its subdomains (`github.com` allows `api.github.com`). */
  allowedDomains: readonly string[];
  /** Ports a CONNECT may ask for. Default 443. */
  connectPorts?: readonly number[];
  /** Ports plain `http://` requests may go to. Default 80. */
  httpPorts?: readonly number[];
  /** Tests only: let allowed names resolve to loopback and private addresses. */
  allowPrivateAddresses?: boolean;
  /** Resolves a name to every address it has (default: the system resolver); a test seam. */
  lookup?: (host: string) => Promise<{ address: string }[]>;
  /** Called once per refused request, for the logs. */
  onDenied?: (host: string, reason: string) => void;
}

export interface EgressProxy {
  readonly socketPath: string;
  close(): Promise<void>;
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
      addresses = await (policy.lookup ?? systemLookup)(host);
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

function systemLookup(host: string): Promise<{ address: string }[]> {
  return lookup(host, { all: true });
}

function splitHostPort(authority: string): [string, string] {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(authority);
  if (bracketed) return [bracketed[1]!, bracketed[2]!];
  const at = authority.lastIndexOf(':');
  return at < 0 ? [authority, ''] : [authority.slice(0, at), authority.slice(at + 1)];
}
