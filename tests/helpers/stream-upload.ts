import { request } from 'node:http';

export interface UploadOutcome {
  /** The answer's status, or null when the connection ended without one. */
  status: number | null;
  body: string;
  /** Bytes the client managed to hand to the socket before the server stopped it. */
  sentBytes: number;
  /** From the first byte sent to the answer. */
  answeredMs: number;
  /** From the first byte sent until the connection ended (the server stopped taking the body). */
  closedMs: number;
  /** How far this process's RSS rose above where it started while the upload ran. */
  rssGrowthBytes: number;
}

/**
 * POSTs `totalBytes` of filler to `url` as fast as the server takes it (one reused chunk, so the
 * client itself allocates nothing as it goes), keeps sending after an early answer until the server
 * closes the connection (a server that reads and drops the rest lets it send everything), and samples this process's RSS meanwhile: the server under test runs in
 * this process, so RSS growth is what the upload cost it.
 */
export function streamUpload(
  url: string,
  options: { headers?: Record<string, string>; totalBytes: number; declareLength?: boolean; chunk?: Buffer },
): Promise<UploadOutcome> {
  const chunk = options.chunk ?? Buffer.alloc(64 * 1024, 0x61);
  const headers: Record<string, string> = {
    ...options.headers,
    ...(options.declareLength
      ? { 'content-length': String(options.totalBytes) }
      : { 'transfer-encoding': 'chunked' }),
  };
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let status: number | null = null;
    let body = '';
    let answeredMs = Number.NaN;
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      resolve({
        status,
        body,
        sentBytes: sent,
        answeredMs,
        closedMs: performance.now() - started,
        rssGrowthBytes: peak - baseline,
      });
    };
    const req = request(url, { method: 'POST', headers });
    req.on('response', (res) => {
      status = res.statusCode ?? null;
      answeredMs = performance.now() - started;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
    });
    req.on('error', finish);
    req.on('close', finish);
    const pump = () => {
      while (!ended && sent < options.totalBytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, options.totalBytes - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!ended) req.end();
    };
    pump();
  });
}
