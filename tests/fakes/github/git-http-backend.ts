/**
 * Git smart HTTP for the fake GitHub: runs `git http-backend` as a CGI child process so clone,
 * fetch and push against the fake are real git over HTTP against bare repositories on disk.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitCgiOptions {
  projectRoot: string;
  /** Path below the project root, e.g. /owner/repo.git/info/refs. */
  pathInfo: string;
  query: string;
  /** Set for authenticated requests; http-backend enables receive-pack only when it is set. */
  remoteUser?: string;
}

export function serveGitCgi(
  req: IncomingMessage,
  res: ServerResponse,
  options: GitCgiOptions,
): Promise<void> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: options.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: options.pathInfo,
    QUERY_STRING: options.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: '127.0.0.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
  };
  if (req.headers['content-length']) env['CONTENT_LENGTH'] = req.headers['content-length'];
  if (req.headers['content-encoding']) env['HTTP_CONTENT_ENCODING'] = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env['GIT_PROTOCOL'] = String(req.headers['git-protocol']);
  if (options.remoteUser) env['REMOTE_USER'] = options.remoteUser;

  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let headerBuf = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      headerBuf = Buffer.concat([headerBuf, chunk]);
      const crlf = headerBuf.indexOf('\r\n\r\n');
      const lf = headerBuf.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      const sepLen = end === crlf ? 4 : 2;
      const head = headerBuf.subarray(0, end).toString('latin1');
      const rest = headerBuf.subarray(end + sepLen);
      headersDone = true;
      let status = 200;
      for (const line of head.split(/\r?\n/)) {
        const idx = line.indexOf(':');
        if (idx < 0) continue;
        const name = line.slice(0, idx).trim();
        const value = line.slice(idx + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      if (rest.length > 0) res.write(rest);
    });
    child.stderr.resume();
    child.on('close', () => {
      if (!headersDone) res.statusCode = 500;
      res.end();
      resolve();
    });
    child.on('error', () => {
      res.statusCode = 500;
      res.end();
      resolve();
    });
  });
}
