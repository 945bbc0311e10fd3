/**
 * A SandboxProvider over tests/fakes/llm/dir-sandbox.ts (temp directories, plain child
 * processes) for GitHub pipeline tests until the local bubblewrap provider is available.
 */
import type { SandboxCreateOptions, SandboxProvider } from '../../../src/core/index.js';
import { createDirSandbox, type DirSandbox } from '../llm/dir-sandbox.js';

export class DirSandboxProvider implements SandboxProvider {
  readonly name = 'dir';
  readonly created: DirSandbox[] = [];
  readonly createOptions: SandboxCreateOptions[] = [];

  async create(options: SandboxCreateOptions): Promise<DirSandbox> {
    this.createOptions.push(options);
    const sandbox = await createDirSandbox(options.seedDir);
    this.created.push(sandbox);
    return sandbox;
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {
    await Promise.all(this.created.map((s) => s.close()));
  }
}
