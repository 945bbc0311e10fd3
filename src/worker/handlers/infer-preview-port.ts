/**
 * The port a shell command will serve on, when it plainly ends by starting Python's static file
 * server (`… && python3 -m http.server [port]`, the MVP's seed command). Anything less certain is
 * not a preview: a command wrongly run in the background would report a port nobody opens.
 */

const HTTP_SERVER = /(?:^|&&|;|\n)\s*(?:exec\s+)?python3?\s+-m\s+http\.server((?:\s+[^\s;&|<>()`$]+)*)\s*$/;
const DEFAULT_PORT = 8000;
/** http.server options that take a value (the value is not the port). */
const WITH_VALUE = new Set(['-b', '--bind', '-d', '--directory', '-p', '--protocol']);

export function inferPreviewPort(command: string): number | null {
  const match = HTTP_SERVER.exec(command.trim());
  if (!match) return null;
  const args = (match[1] ?? '').trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (WITH_VALUE.has(arg)) {
      i += 1;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (!/^\d{1,5}$/.test(arg)) return null;
    const port = Number(arg);
    return port >= 1 && port <= 65535 ? port : null;
  }
  return DEFAULT_PORT;
}
