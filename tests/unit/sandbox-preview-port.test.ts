import { describe, expect, it } from 'vitest';
import { inferPreviewPort } from '../../src/worker/handlers/infer-preview-port.js';

describe('inferPreviewPort', () => {
  it.each([
    ['echo "Hello from devbot" > index.html && python3 -m http.server 8000', 8000],
    ['python3 -m http.server', 8000],
    ['python -m http.server 9000', 9000],
    ['cd site; python3 -m http.server --bind 127.0.0.1 8080', 8080],
    ['python3 -m http.server -d public 3000', 3000],
    ['exec python3 -m http.server 5000  ', 5000],
  ])('%s -> %i', (command, port) => {
    expect(inferPreviewPort(command)).toBe(port);
  });

  it.each([
    'ls -la',
    'python3 -m http.server 8000 &',
    'python3 -m http.server 8000 && echo done',
    'python3 -m http.server 8000 | tee log',
    'python3 -m http.server 99999',
    'python3 -m http.server $PORT',
    'echo python3 -m http.server 8000',
    'python3 -m http.server.extra 8000',
  ])('%s -> not a preview', (command) => {
    expect(inferPreviewPort(command)).toBeNull();
  });
});
