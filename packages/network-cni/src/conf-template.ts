/** The values containerd offers its CNI `conf_template` (cri plugin's cniConfigTemplate). */
export interface ConfTemplateData {
  /** The first pod CIDR. */
  readonly PodCIDR: string;
  /** Every pod CIDR (dual stack: one per family). */
  readonly PodCIDRRanges: readonly string[];
  /** A default route per CIDR family: `0.0.0.0/0` or `::/0`. */
  readonly Routes: readonly string[];
}

type Value = string | number | boolean | readonly unknown[] | Readonly<Record<string, unknown>> | undefined;
type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'print'; readonly expr: string }
  | { readonly kind: 'range'; readonly index?: string | undefined; readonly elem?: string | undefined; readonly expr: string; readonly body: Node[]; readonly otherwise: Node[] }
  | { readonly kind: 'if'; readonly expr: string; readonly body: Node[]; readonly otherwise: Node[] };
interface Scope { readonly dot: Value; readonly vars: ReadonlyMap<string, Value> }

/**
 * Renders a conf template written for containerd, which uses Go's text/template. The subset such
 * templates use is supported: `{{.PodCIDR}}`, `{{range $i, $r := .PodCIDRRanges}}…{{end}}` (also
 * `{{range .Routes}}…{{.}}…{{end}}`), `{{if $i}}…{{else}}…{{end}}`, `{{$r}}` and the `{{-`/`-}}`
 * whitespace trimming.
 * @throws Error naming the action when the template uses anything else or is unbalanced
 */
export function renderConfTemplate(template: string, data: ConfTemplateData): string {
  const tokens = tokenize(template);
  let pos = 0;
  const parse = (closers: readonly string[]): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.text !== undefined) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const action = t.action!;
      if (closers.includes(action)) return { nodes, closer: action };
      const range = /^range\s+(?:(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*)?(\S+)$/.exec(action);
      const cond = /^if\s+(\S+)$/.exec(action);
      if (range || cond) {
        const body = parse(['end', 'else']);
        const otherwise = body.closer === 'else' ? parse(['end']).nodes : [];
        if (range) {
          const [, first, second, expr] = range;
          // `$x := .L` binds the element; `$i, $x := .L` binds index and element.
          nodes.push({ kind: 'range', index: second ? first : undefined, elem: second ?? first, expr: expr!, body: body.nodes, otherwise });
        } else {
          nodes.push({ kind: 'if', expr: cond![1]!, body: body.nodes, otherwise });
        }
        continue;
      }
      if (/^(\.|\.\w+|\$\w*)$/.test(action)) {
        nodes.push({ kind: 'print', expr: action });
        continue;
      }
      throw new Error(`unsupported template action "{{${action}}}"`);
    }
    if (closers.length > 0) throw new Error(`missing {{${closers[0]}}}`);
    return { nodes, closer: '' };
  };
  const root = parse([]).nodes;
  return render(root, { dot: data as unknown as Value, vars: new Map([['$', data as unknown as Value]]) });
}

function render(nodes: readonly Node[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'print':
        out += print(evaluate(node.expr, scope));
        break;
      case 'if':
        out += render(truthy(evaluate(node.expr, scope)) ? node.body : node.otherwise, scope);
        break;
      case 'range': {
        const list = evaluate(node.expr, scope);
        if (!Array.isArray(list)) throw new Error(`cannot range over ${node.expr}`);
        if (list.length === 0) out += render(node.otherwise, scope);
        list.forEach((elem: unknown, i: number) => {
          const vars = new Map(scope.vars);
          if (node.index) vars.set(node.index, i);
          if (node.elem) vars.set(node.elem, elem as Value);
          out += render(node.body, { dot: elem as Value, vars });
        });
        break;
      }
    }
  }
  return out;
}

function evaluate(expr: string, scope: Scope): Value {
  if (expr === '.') return scope.dot;
  if (expr.startsWith('$')) {
    if (!scope.vars.has(expr)) throw new Error(`undefined variable "${expr}"`);
    return scope.vars.get(expr);
  }
  const field = expr.slice(1);
  const dot = scope.dot;
  if (typeof dot !== 'object' || dot === null || Array.isArray(dot) || !(field in dot)) throw new Error(`no field "${field}" in ${expr}`);
  return (dot as Record<string, Value>)[field];
}

function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== '' && v !== 0 && v !== false;
}

function print(v: Value): string {
  if (Array.isArray(v)) return `[${v.join(' ')}]`; // Go's %v of a slice
  return v === undefined ? '<no value>' : String(v);
}

/** Splits into text and actions, applying `{{- ` and ` -}}` trimming to the neighbouring text. */
function tokenize(template: string): { text?: string; action?: string }[] {
  const tokens: { text?: string; action?: string }[] = [];
  const re = /\{\{(-\s+)?([\s\S]*?)(\s+-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    if (m[1]) text = text.trimEnd();
    if (text !== '') tokens.push({ text });
    const action = m[2]!.trim();
    // Go template comments render nothing.
    if (!/^\/\*[\s\S]*\*\/$/.test(action)) tokens.push({ action });
    trimNext = m[3] !== undefined;
    last = re.lastIndex;
  }
  let tail = template.slice(last);
  if (trimNext) tail = tail.trimStart();
  if (tail !== '') tokens.push({ text: tail });
  return tokens;
}
