/**
 * Tools the model may call. Arguments are zod schemas, sent to the model as JSON Schema. A tool
 * that cannot do what was asked throws ToolError: its message goes back to the model as the tool
 * result, so the model can correct itself; the task does not crash.
 */
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';

export class ToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToolError';
  }
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  run(args: z.infer<S>): Promise<string>;
}

export function defineTool<S extends z.ZodType>(tool: Tool<S>): Tool {
  return tool as unknown as Tool;
}

export function toOpenAiTool(tool: Tool): ChatCompletionTool {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.schema, { target: 'draft-7' }) as Record<
    string,
    unknown
  >;
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters } };
}

export type ToolCallOutcome = { ok: true; output: string } | { ok: false; error: string };

/** Validates and runs one tool call; every way it can go wrong becomes an error for the model. */
export async function invokeTool(
  tools: readonly Tool[],
  name: string,
  rawArguments: string,
): Promise<ToolCallOutcome> {
  const tool = tools.find((t) => t.name === name);
  if (!tool)
    return {
      ok: false,
      error: `unknown tool "${name}"; the tools are: ${tools.map((t) => t.name).join(', ')}`,
    };
  let json: unknown;
  try {
    json = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch (err) {
    return {
      ok: false,
      error: `the arguments for ${name} are not valid JSON (${(err as Error).message}); send a JSON object`,
    };
  }
  const parsed = tool.schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: `invalid arguments for ${name}: ${problems}` };
  }
  try {
    return { ok: true, output: await tool.run(parsed.data) };
  } catch (err) {
    if (err instanceof ToolError) return { ok: false, error: err.message };
    throw err;
  }
}
