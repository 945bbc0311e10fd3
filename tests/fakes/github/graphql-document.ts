/**
 * Just enough of a GraphQL parser for the fake GitHub: operations (query/mutation, optionally
 * named, with variable definitions and defaults), fields with aliases and arguments (literals,
 * variables, lists, input objects). Fragments and directives are refused with a parse error, so a
 * client that needs them learns it from the test rather than getting a wrong answer.
 */

export type ValueNode =
  | { kind: 'var'; name: string }
  | { kind: 'value'; value: unknown }
  | { kind: 'list'; items: ValueNode[] }
  | { kind: 'object'; fields: Record<string, ValueNode> };

export interface FieldNode {
  alias: string | null;
  name: string;
  args: Record<string, ValueNode>;
  selections: FieldNode[] | null;
  line: number;
  column: number;
}

export interface OperationNode {
  type: 'query' | 'mutation' | 'subscription';
  name: string | null;
  defaults: Record<string, ValueNode | undefined>;
  selections: FieldNode[];
}

interface Token {
  kind: 'punct' | 'name' | 'number' | 'string' | 'eof';
  value: string;
  line: number;
  column: number;
}

export class GraphqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = () => ({ line, column: i - lineStart + 1 });
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (/[\s,\uFEFF]/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const pos = at();
    if (source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...', ...pos });
      i += 3;
      continue;
    }
    if ('!$():=@[]{}|'.includes(ch)) {
      tokens.push({ kind: 'punct', value: ch, ...pos });
      i++;
      continue;
    }
    const name = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0], ...pos });
      i += name[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i));
    if (num) {
      tokens.push({ kind: 'number', value: num[0], ...pos });
      i += num[0].length;
      continue;
    }
    if (ch === '"') {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        if (end < 0) throw new GraphqlSyntaxError('Unterminated string', pos.line, pos.column);
        tokens.push({ kind: 'string', value: source.slice(i + 3, end), ...pos });
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\\') {
          text += JSON.parse(`"${source.slice(j, j + (source[j + 1] === 'u' ? 6 : 2))}"`) as string;
          j += source[j + 1] === 'u' ? 6 : 2;
        } else text += source[j++];
      }
      if (j >= source.length) throw new GraphqlSyntaxError('Unterminated string', pos.line, pos.column);
      tokens.push({ kind: 'string', value: text, ...pos });
      i = j + 1;
      continue;
    }
    throw new GraphqlSyntaxError(`Parse error on "${ch}"`, pos.line, pos.column);
  }
  tokens.push({ kind: 'eof', value: '', ...at() });
  return tokens;
}

/** Parses a document; returns its operations. */
export function parseDocument(source: string): OperationNode[] {
  const tokens = tokenize(source);
  let k = 0;
  const peek = () => tokens[k]!;
  const fail = (t: Token): never => {
    const what = t.kind === 'eof' ? 'end of file' : `"${t.value}"`;
    throw new GraphqlSyntaxError(`Parse error on ${what} at [${t.line}, ${t.column}]`, t.line, t.column);
  };
  const next = () => tokens[k++]!;
  const expect = (value: string) => {
    const t = next();
    if (t.value !== value || (t.kind !== 'punct' && t.kind !== 'name')) fail(t);
    return t;
  };
  const name = () => {
    const t = next();
    if (t.kind !== 'name') fail(t);
    return t.value;
  };

  const value = (constOnly: boolean): ValueNode => {
    const t = next();
    if (t.kind === 'punct' && t.value === '$' && !constOnly) return { kind: 'var', name: name() };
    if (t.kind === 'number') return { kind: 'value', value: Number(t.value) };
    if (t.kind === 'string') return { kind: 'value', value: t.value };
    if (t.kind === 'name') {
      if (t.value === 'true' || t.value === 'false') return { kind: 'value', value: t.value === 'true' };
      if (t.value === 'null') return { kind: 'value', value: null };
      return { kind: 'value', value: t.value }; // an enum value
    }
    if (t.value === '[') {
      const items: ValueNode[] = [];
      while (peek().value !== ']') items.push(value(constOnly));
      next();
      return { kind: 'list', items };
    }
    if (t.value === '{') {
      const fields: Record<string, ValueNode> = {};
      while (peek().value !== '}') {
        const key = name();
        expect(':');
        fields[key] = value(constOnly);
      }
      next();
      return { kind: 'object', fields };
    }
    return fail(t);
  };

  const refuseDirective = () => {
    if (peek().value === '@') {
      const t = peek();
      throw new GraphqlSyntaxError('Directives are not supported by the fake GitHub', t.line, t.column);
    }
  };

  const selectionSet = (): FieldNode[] => {
    expect('{');
    const fields: FieldNode[] = [];
    while (peek().value !== '}') {
      const t = peek();
      if (t.kind === 'eof') fail(t);
      if (t.value === '...')
        throw new GraphqlSyntaxError('Fragments are not supported by the fake GitHub', t.line, t.column);
      const first = name();
      let alias: string | null = null;
      let fieldName = first;
      if (peek().value === ':') {
        next();
        alias = first;
        fieldName = name();
      }
      const args: Record<string, ValueNode> = {};
      if (peek().value === '(') {
        next();
        while (peek().value !== ')') {
          const key = name();
          expect(':');
          args[key] = value(false);
        }
        next();
      }
      refuseDirective();
      const selections = peek().value === '{' ? selectionSet() : null;
      fields.push({ alias, name: fieldName, args, selections, line: t.line, column: t.column });
    }
    next();
    return fields;
  };

  const typeRef = () => {
    if (peek().value === '[') {
      next();
      typeRef();
      expect(']');
    } else name();
    if (peek().value === '!') next();
  };

  const operations: OperationNode[] = [];
  while (peek().kind !== 'eof') {
    const t = peek();
    if (t.value === '{') {
      operations.push({ type: 'query', name: null, defaults: {}, selections: selectionSet() });
      continue;
    }
    if (t.value === 'fragment')
      throw new GraphqlSyntaxError('Fragments are not supported by the fake GitHub', t.line, t.column);
    if (t.kind !== 'name' || !['query', 'mutation', 'subscription'].includes(t.value)) fail(t);
    next();
    const op: OperationNode = {
      type: t.value as OperationNode['type'],
      name: peek().kind === 'name' ? name() : null,
      defaults: {},
      selections: [],
    };
    if (peek().value === '(') {
      next();
      while (peek().value !== ')') {
        expect('$');
        const v = name();
        expect(':');
        typeRef();
        let def: ValueNode | undefined;
        if (peek().value === '=') {
          next();
          def = value(true);
        }
        op.defaults[v] = def;
      }
      next();
    }
    refuseDirective();
    op.selections = selectionSet();
    operations.push(op);
  }
  if (operations.length === 0) fail(peek());
  return operations;
}

/** An argument's value with variables filled in. */
export function argValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case 'var':
      return variables[node.name];
    case 'value':
      return node.value;
    case 'list':
      return node.items.map((i) => argValue(i, variables));
    default:
      return Object.fromEntries(Object.entries(node.fields).map(([k, v]) => [k, argValue(v, variables)]));
  }
}
