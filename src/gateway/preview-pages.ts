/**
 * The small pages a preview link answers with when there is nothing to proxy: starting again
 * (refreshes itself), gone for good (410), or failed to start (502). No script, no other origin.
 */
import type { ServerResponse } from 'node:http';
import type { PreviewAnswer } from '../core/preview-records.js';
import { esc } from './ui/ui-html.js';

/** What the app answers about a dead preview (PreviewRevival in a worker). */
export type PreviewMiss = PreviewAnswer;

export function sendPreviewPage(res: ServerResponse, miss: Exclude<PreviewMiss, { state: 'unknown' }>): void {
  const [status, title, text, refresh] =
    miss.state === 'starting'
      ? [
          503,
          `Starting the preview of ${miss.label}…`,
          'devbot is rebuilding this preview from its commit. This page refreshes itself.',
          true,
        ]
      : miss.state === 'gone'
        ? [410, 'This preview is gone', miss.reason, false]
        : [502, `The preview of ${miss.label} did not start`, `${miss.reason}. Reload to try again.`, false];
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${refresh ? '\n<meta http-equiv="refresh" content="2">' : ''}
<title>${esc(title)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1 style="font-size:1.3rem">${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    ...(refresh ? { 'retry-after': '2' } : {}),
  });
  res.end(body);
}
