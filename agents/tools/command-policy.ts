/**
 * A pre-flight check on commands the model (or the router) wants to run. The sandbox enforces its
 * policy regardless; this refuses obvious violations up front so they are not attempted at all and
 * the model gets a clear reason: network tools when the task has no network, writes or directory
 * changes outside the workspace, privilege escalation.
 */
export interface CommandPolicy {
  network: boolean;
  workdir: string;
}

const NETWORK_TOOLS =
  /(^|[\s;&|(`$])(curl|wget|nc|ncat|netcat|ssh|scp|sftp|rsync|telnet|ftp|ping|nslookup|dig|host)(\s|$)/;
const NETWORK_SUBCOMMANDS =
  /(^|[\s;&|(])(git\s+(clone|fetch|pull|push|ls-remote)|npm\s+(install|i|ci|add|update|publish)|yarn(\s+(add|install))?(\s|$)|pnpm\s+(install|i|add)|pip3?\s+install|python3?\s+-m\s+pip\s+install|apt(-get)?\s+install|gem\s+install|cargo\s+install|go\s+get)(?=\s|$|;|&|\|)/;
const PRIVILEGE = /(^|[\s;&|(])(sudo|su|doas|chroot|mount|umount|nsenter|unshare)(\s|$)/;
/** Targets of redirections and of file-writing commands that are absolute paths. */
const REDIRECT_TARGET = /(?:>>?|\btee(?:\s+-a)?)\s*([^\s;&|)]+)/g;
const WRITE_COMMAND_ARGS =
  /(?:^|[\s;&|(])(?:cp|mv|rm|touch|mkdir|rmdir|chmod|chown|ln|install|dd)\s+([^;&|]*)/g;
const CD_TARGET = /(?:^|[\s;&|(])(?:cd|pushd)\s+([^\s;&|)]+)/g;

/** Writable places besides the workspace. */
const ALLOWED_PREFIXES = ['/tmp', '/dev/null', '/dev/stdout', '/dev/stderr'];

export function checkCommand(command: string, policy: CommandPolicy): string | null {
  if (!policy.network) {
    if (NETWORK_TOOLS.test(command) || NETWORK_SUBCOMMANDS.test(command) || /https?:\/\//.test(command))
      return 'refused: this task has no network access, so commands that reach the network are not run';
  }
  if (PRIVILEGE.test(command))
    return 'refused: privilege escalation and mounts are not allowed in the sandbox';
  const outside = (target: string) => {
    const path = target.replace(/^['"]|['"]$/g, '');
    if (path.startsWith('~')) return true;
    if (!path.startsWith('/')) return /(^|\/)\.\.(\/|$)/.test(path) && escapesByDots(path);
    const root = policy.workdir.replace(/\/+$/, '');
    if (path === root || path.startsWith(`${root}/`))
      return /(^|\/)\.\.(\/|$)/.test(path) && escapesByDots(path.slice(root.length + 1));
    return !ALLOWED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
  };
  for (const match of command.matchAll(REDIRECT_TARGET))
    if (match[1] && !/^&\d$/.test(match[1]) && outside(match[1]))
      return `refused: writing to ${match[1]} is outside the workspace ${policy.workdir}`;
  for (const match of command.matchAll(WRITE_COMMAND_ARGS))
    for (const arg of (match[1] ?? '').split(/\s+/).filter((a) => a && !a.startsWith('-')))
      if (outside(arg)) return `refused: ${arg} is outside the workspace ${policy.workdir}`;
  for (const match of command.matchAll(CD_TARGET))
    if (match[1] && match[1] !== '-' && outside(match[1]))
      return `refused: ${match[1]} is outside the workspace ${policy.workdir}`;
  return null;
}

/** Whether a relative path climbs above its starting directory. */
function escapesByDots(path: string): boolean {
  let depth = 0;
  for (const part of path.split('/')) {
    if (part === '..') depth -= 1;
    else if (part && part !== '.') depth += 1;
    if (depth < 0) return true;
  }
  return false;
}
