/**
 * The adapter modules a normal start wires in. Each returns null when its integration is not
 * configured (no Telegram token, no GitHub App), so zero configuration runs the core alone.
 */
import type { ModuleFactory } from './runtime.js';

export function defaultModules(): ModuleFactory[] {
  return [];
}
