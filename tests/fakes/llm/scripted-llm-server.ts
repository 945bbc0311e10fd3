/**
 * An OpenAI-compatible HTTP server that replays a scripted scenario (DESIGN.md §6). It speaks
 * `/v1/chat/completions` (with tools; non-streaming and SSE streaming) and `/v1/embeddings`
 * (deterministic feature-hashed vectors). Every request is recorded for assertions; a request that
 * the script does not expect gets HTTP 500 with a clear body, `x-should-retry: false` (so SDKs do not
 * retry it) and a recorded error the test can assert on.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim (so a test can send malformed JSON). */
  arguments: Record<string, unknown> | string;
  id?: string;
}

export interface TurnMatch {
  /** Matches the `x-devbot-role` header or, failing that, the model name. */
  role?: string;
  model?: string;
  /** The last message is a tool result (true) or not (false). */
  afterToolResult?: boolean;
  /** A substring that must appear somewhere in the request's messages. */
  contains?: string;
  /** A custom predicate over the parsed body. */
  test?: (body: ChatRequestBody) => boolean;
}

export interface ScriptedTurn {
  match?: TurnMatch;
  /** A text answer. */
  content?: string;
  toolCalls?: ScriptedToolCall[];
  /** Answer with this HTTP error instead (e.g. 429 to exercise retries). */
  error?: { status: number; body?: unknown; headers?: Record<string, string> };
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Replay this turn this many times (Infinity for a model that never stops). Default 1. */
  times?: number;
  /** Wait this long before answering (zero latency by default). */
  delayMs?: number;
  /** Answer only once this resolves (a test holds the model mid-run, e.g. to steer it). */
  hold?: Promise<unknown>;
}

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; parameters?: unknown } }>;
  stream?: boolean;
  response_format?: unknown;
  [key: string]: unknown;
}

export interface RecordedRequest {
  path: string;
  role: string | undefined;
  body: ChatRequestBody;
  /** Index of the scripted turn that answered it; -1 when it was unexpected. */
  turn: number;
}

export interface EmbeddingRequestRecord {
  model: string;
  input: string[];
}

export interface ScriptedLlmServer {
  url: string;
  /** Base URL for OPENAI_BASE_URL (ends with /v1). */
  baseUrl: string;
  requests: RecordedRequest[];
  embeddingRequests: EmbeddingRequestRecord[];
  /** Requests the script did not expect, with why. */
  errors: string[];
  /** Turns not yet consumed (a finite `times` counts each repetition). */
  remaining(): number;
  /** Replaces the script (and resets the position); recorded requests are kept. */
  load(turns: ScriptedTurn[]): void;
  close(): Promise<void>;
}

export interface ScriptedLlmOptions {
  turns?: ScriptedTurn[];
  embeddingDimensions?: number;
}

export async function startScriptedLlm(options: ScriptedLlmOptions = {}): Promise<ScriptedLlmServer> {
  const requests: RecordedRequest[] = [];
  const embeddingRequests: EmbeddingRequestRecord[] = [];
  const errors: string[] = [];
  let turns: ScriptedTurn[] = options.turns ?? [];
  let position = 0;
  let usedOfCurrent = 0;
  let callCounter = 0;
  const dims = options.embeddingDimensions ?? 1536;

  const nextTurn = (): { turn: ScriptedTurn; index: number } | null => {
    const turn = turns[position];
    if (!turn) return null;
    return { turn, index: position };
  };
  const consume = (turn: ScriptedTurn): void => {
    usedOfCurrent += 1;
    if (usedOfCurrent >= (turn.times ?? 1)) {
      position += 1;
      usedOfCurrent = 0;
    }
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse, body: ChatRequestBody) => {
    const role = headerValue(req, 'x-devbot-role');
    const next = nextTurn();
    const record: RecordedRequest = { path: req.url ?? '', role, body, turn: -1 };
    requests.push(record);
    if (!next) {
      return fail(
        res,
        errors,
        `unexpected request #${requests.length} (role ${role ?? '?'}): script is exhausted`,
      );
    }
    const mismatch = matchProblem(next.turn.match, body, role);
    if (mismatch) {
      return fail(
        res,
        errors,
        `request #${requests.length} (role ${role ?? '?'}) does not match turn ${next.index}: ${mismatch}`,
      );
    }
    record.turn = next.index;
    consume(next.turn);
    if (next.turn.delayMs) await new Promise((r) => setTimeout(r, next.turn.delayMs));
    if (next.turn.hold) await next.turn.hold;
    if (next.turn.error) {
      const { status, body: errBody, headers } = next.turn.error;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(errBody ?? { error: { message: `scripted ${status}`, type: 'scripted' } }));
      return;
    }
    const toolCalls = (next.turn.toolCalls ?? []).map((call) => {
      callCounter += 1;
      return {
        id: call.id ?? `call_${callCounter}`,
        type: 'function' as const,
        function: {
          name: call.name,
          arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
        },
      };
    });
    const usage = next.turn.usage ?? estimateUsage(body, next.turn);
    const message = {
      role: 'assistant',
      content: next.turn.content ?? null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    };
    const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream) return streamAnswer(res, { id, created, model: body.model, message, finish, usage });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  };

  const handleEmbeddings = (res: ServerResponse, body: Record<string, unknown>) => {
    const raw = body['input'];
    const input = Array.isArray(raw) ? raw.map(String) : [String(raw ?? '')];
    const model = String(body['model'] ?? 'embedding');
    embeddingRequests.push({ model, input });
    const size = typeof body['dimensions'] === 'number' ? body['dimensions'] : dims;
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text, size) }));
    const tokens = input.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }),
    );
  };

  const server: Server = createServer((req, res) => {
    readJson(req)
      .then(async (body) => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        if (req.method === 'POST' && path.endsWith('/chat/completions'))
          return handleChat(req, res, body as ChatRequestBody);
        if (req.method === 'POST' && path.endsWith('/embeddings')) return handleEmbeddings(res, body);
        if (req.method === 'GET' && path.endsWith('/models')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'list', data: [] }));
          return;
        }
        return fail(res, errors, `unknown endpoint ${req.method} ${path}`, 404);
      })
      .catch((err: unknown) => fail(res, errors, `bad request: ${String(err)}`, 400));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    embeddingRequests,
    errors,
    remaining: () => {
      let n = 0;
      for (let i = position; i < turns.length; i++) {
        const times = turns[i]?.times ?? 1;
        n += i === position ? times - usedOfCurrent : times;
      }
      return n;
    },
    load: (next) => {
      turns = next;
      position = 0;
      usedOfCurrent = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function fail(res: ServerResponse, errors: string[], message: string, status = 500): void {
  errors.push(message);
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
  res.end(JSON.stringify({ error: { message: `scripted LLM: ${message}`, type: 'scripted_llm_error' } }));
}

function matchProblem(match: TurnMatch | undefined, body: ChatRequestBody, role: string | undefined) {
  if (!match) return null;
  if (match.role !== undefined && match.role !== role && match.role !== body.model)
    return `expected role ${match.role}, got ${role ?? body.model}`;
  if (match.model !== undefined && match.model !== body.model)
    return `expected model ${match.model}, got ${body.model}`;
  const last = body.messages[body.messages.length - 1];
  if (match.afterToolResult !== undefined && (last?.role === 'tool') !== match.afterToolResult)
    return match.afterToolResult ? 'expected a tool result last' : 'expected no tool result last';
  if (match.contains !== undefined && !JSON.stringify(body.messages).includes(match.contains))
    return `messages do not contain ${JSON.stringify(match.contains)}`;
  if (match.test && !match.test(body)) return 'custom predicate failed';
  return null;
}

function estimateUsage(body: ChatRequestBody, turn: ScriptedTurn) {
  const promptChars = JSON.stringify(body.messages).length;
  const outChars = (turn.content ?? '').length + JSON.stringify(turn.toolCalls ?? []).length;
  return {
    prompt_tokens: Math.ceil(promptChars / 4),
    completion_tokens: Math.max(1, Math.ceil(outChars / 4)),
  };
}

function streamAnswer(
  res: ServerResponse,
  a: {
    id: string;
    created: number;
    model: string;
    message: { content: string | null; tool_calls?: Array<Record<string, unknown>> };
    finish: string;
    usage: { prompt_tokens: number; completion_tokens: number };
  },
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: unknown, finish: string | null, usage?: unknown) =>
    res.write(
      `data: ${JSON.stringify({
        id: a.id,
        object: 'chat.completion.chunk',
        created: a.created,
        model: a.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`,
    );
  chunk({ role: 'assistant', content: a.message.content ?? '' }, null);
  if (a.message.tool_calls)
    chunk({ tool_calls: a.message.tool_calls.map((call, index) => ({ index, ...call })) }, null);
  chunk({}, a.finish, { ...a.usage, total_tokens: a.usage.prompt_tokens + a.usage.completion_tokens });
  res.end('data: [DONE]\n\n');
}

/** Feature hashing over lower-cased words: deterministic, and texts sharing words stay close. */
export function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const words = text.toLowerCase().match(/[a-z0-9_]+/g) ?? [text];
  for (const word of words) {
    const h = createHash('sha256').update(word).digest();
    const index = h.readUInt32BE(0) % dims;
    v[index] = (v[index] ?? 0) + (h[4]! & 1 ? 1 : -1);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
