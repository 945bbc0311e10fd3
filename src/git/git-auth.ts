/**
 * Credentials for one git child process: the installation token goes into an
 * `http.extraHeader` set through GIT_CONFIG_* environment variables of that process only, so it
 * is never written to a remote URL or a config file on disk, and never appears on a command line.
 */

export function gitAuthEnv(token: string | undefined): Record<string, string> {
  // A local repository (or a public one) needs no credential.
  if (token === undefined) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}
