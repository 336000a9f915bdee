/**
 * Mutant generation for scripts/mutate.ts: walks one source file's TypeScript AST and proposes
 * small behaviour changes, each a single text edit. Only expressions and statements are touched
 * (never imports, types or string contents other than array elements), so most mutants still
 * type-check; the ones that do not are filtered out later (mutate-typecheck.ts).
 */
import ts from 'typescript';

export const OPERATORS = {
  boundary: '`<` ↔ `<=`, `>` ↔ `>=`',
  equality: '`===` ↔ `!==`, `==` ↔ `!=`',
  logical: '`&&` ↔ `||`',
  'logical-drop': 'drop one operand of an `&&` / `||` / `??` chain',
  boolean: '`true` ↔ `false`',
  'negate-condition': '`if (c)` / `c ? a : b` → `!(c)`',
  'remove-if': 'remove an `if` without `else` (its guard never fires)',
  'remove-call': 'remove a call statement (`await x.invalidate(…);`)',
  'return-value': 'return `!(v)` for a boolean, else `undefined` / `null` where the type allows',
  'remove-element': 'remove one string literal from an array (`new Set([...codes])`)',
  arithmetic: '`+` ↔ `-`, `*` ↔ `/`, `++` ↔ `--` (numbers only)',
  'remove-not': '`!x` → `x`',
} as const;

export type Operator = keyof typeof OPERATORS;

export interface Mutant {
  /** `file:line:col:operator`, stable while the file is unchanged (`~2` when a spot repeats). */
  id: string;
  /** Repository-relative, forward slashes. */
  file: string;
  line: number;
  col: number;
  operator: Operator;
  /** The replaced span of the original text, and what replaces it. */
  start: number;
  end: number;
  replacement: string;
  /** The replaced text, one line, for reports. */
  original: string;
}

export function applyMutant(
  text: string,
  m: Pick<Mutant, 'start' | 'end' | 'replacement'>,
): string {
  return text.slice(0, m.start) + m.replacement + text.slice(m.end);
}

const SWAPS: Partial<Record<ts.SyntaxKind, [Operator, string]>> = {
  [ts.SyntaxKind.LessThanToken]: ['boundary', '<='],
  [ts.SyntaxKind.LessThanEqualsToken]: ['boundary', '<'],
  [ts.SyntaxKind.GreaterThanToken]: ['boundary', '>='],
  [ts.SyntaxKind.GreaterThanEqualsToken]: ['boundary', '>'],
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: ['equality', '!=='],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: ['equality', '==='],
  [ts.SyntaxKind.EqualsEqualsToken]: ['equality', '!='],
  [ts.SyntaxKind.ExclamationEqualsToken]: ['equality', '=='],
  [ts.SyntaxKind.AmpersandAmpersandToken]: ['logical', '||'],
  [ts.SyntaxKind.BarBarToken]: ['logical', '&&'],
};

const NUMERIC_SWAPS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.PlusToken]: '-',
  [ts.SyntaxKind.MinusToken]: '+',
  [ts.SyntaxKind.AsteriskToken]: '/',
  [ts.SyntaxKind.SlashToken]: '*',
  [ts.SyntaxKind.PlusEqualsToken]: '-=',
  [ts.SyntaxKind.MinusEqualsToken]: '+=',
};

const CHAINS = new Set([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
]);

/** Every mutant of one file. `checker` must come from a program that contains `sf`. */
export function generateMutants(
  sf: ts.SourceFile,
  file: string,
  checker: ts.TypeChecker,
): Mutant[] {
  const out: Mutant[] = [];
  const seen = new Map<string, number>();
  const add = (
    at: ts.Node | number,
    operator: Operator,
    start: number,
    end: number,
    replacement: string,
  ) => {
    const pos = typeof at === 'number' ? at : at.getStart(sf);
    const { line, character } = sf.getLineAndCharacterOfPosition(pos);
    const base = `${file}:${line + 1}:${character + 1}:${operator}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const original = sf.text.slice(start, end).replace(/\s+/g, ' ').trim();
    out.push({
      id: n === 1 ? base : `${base}~${n}`,
      file,
      line: line + 1,
      col: character + 1,
      operator,
      start,
      end,
      replacement,
      original: original.length > 120 ? `${original.slice(0, 117)}...` : original,
    });
  };
  const text = (n: ts.Node) => n.getText(sf);
  const span = (n: ts.Node): [number, number] => [n.getStart(sf), n.getEnd()];
  const isNumeric = (n: ts.Node) =>
    (checker.getTypeAtLocation(n).getFlags() & ts.TypeFlags.NumberLike) !== 0;
  const isBoolean = (n: ts.Node) =>
    (checker.getTypeAtLocation(n).getFlags() & ts.TypeFlags.BooleanLike) !== 0;

  const visit = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) ||
      ts.isExportDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isTypeNode(node) ||
      (ts.isModifierLike(node) && node.kind === ts.SyntaxKind.DeclareKeyword)
    )
      return;

    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken;
      const swap = SWAPS[op.kind];
      if (swap !== undefined) add(op, swap[0], op.getStart(sf), op.getEnd(), swap[1]);
      const numeric = NUMERIC_SWAPS[op.kind];
      if (numeric !== undefined && isNumeric(node.left) && isNumeric(node.right))
        add(op, 'arithmetic', op.getStart(sf), op.getEnd(), numeric);
      // A chain `a || b || c` is one mutation site per operand: drop exactly one of them.
      const parentChain =
        ts.isBinaryExpression(node.parent) && node.parent.operatorToken.kind === op.kind;
      if (CHAINS.has(op.kind) && !parentChain) {
        const operands = flatten(node, op.kind);
        operands.forEach((dropped, i) => {
          const rest = operands.filter((_, j) => j !== i).map(text);
          add(dropped, 'logical-drop', ...span(node), rest.join(` ${text(op)} `));
        });
      }
    } else if (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) {
      // `if (!x)` → `if (x)` is already the negate-condition mutant.
      const wholeCondition =
        (ts.isIfStatement(node.parent) && node.parent.expression === node) ||
        (ts.isConditionalExpression(node.parent) && node.parent.condition === node);
      if (node.operator === ts.SyntaxKind.ExclamationToken && !wholeCondition)
        add(node, 'remove-not', node.getStart(sf), node.operand.getStart(sf), '');
      if (
        node.operator === ts.SyntaxKind.PlusPlusToken ||
        node.operator === ts.SyntaxKind.MinusMinusToken
      ) {
        const opStart = ts.isPrefixUnaryExpression(node)
          ? node.getStart(sf)
          : node.operand.getEnd();
        const swapped = node.operator === ts.SyntaxKind.PlusPlusToken ? '--' : '++';
        add(opStart, 'arithmetic', opStart, opStart + 2, swapped);
      }
    } else if (
      node.kind === ts.SyntaxKind.TrueKeyword ||
      node.kind === ts.SyntaxKind.FalseKeyword
    ) {
      add(
        node,
        'boolean',
        ...span(node),
        node.kind === ts.SyntaxKind.TrueKeyword ? 'false' : 'true',
      );
    } else if (ts.isIfStatement(node)) {
      add(
        node.expression,
        'negate-condition',
        ...span(node.expression),
        `!(${text(node.expression)})`,
      );
      // `{}` is a statement wherever the `if` was, even as the body of another `if`.
      if (node.elseStatement === undefined) add(node, 'remove-if', ...span(node), '{}');
    } else if (ts.isConditionalExpression(node)) {
      add(
        node.condition,
        'negate-condition',
        ...span(node.condition),
        `!(${text(node.condition)})`,
      );
    } else if (ts.isExpressionStatement(node) && isCall(node.expression)) {
      add(node, 'remove-call', ...span(node), '{}');
    } else if (ts.isReturnStatement(node) && node.expression !== undefined) {
      const value = returnReplacement(node, node.expression, checker, isBoolean);
      if (value !== undefined) add(node, 'return-value', ...span(node.expression), value);
    } else if (ts.isArrayLiteralExpression(node)) {
      node.elements.forEach((el, i) => {
        if (!ts.isStringLiteral(el) && !ts.isNoSubstitutionTemplateLiteral(el)) return;
        const rest = node.elements.filter((_, j) => j !== i).map(text);
        add(el, 'remove-element', ...span(node), `[${rest.join(', ')}]`);
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function flatten(node: ts.Expression, kind: ts.SyntaxKind): ts.Expression[] {
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === kind)
    return [...flatten(node.left, kind), ...flatten(node.right, kind)];
  return [node];
}

/** `f(x)`, `await f(x)`, `void f(x)`: a statement kept only for its effect. */
function isCall(e: ts.Expression): boolean {
  if (ts.isAwaitExpression(e) || ts.isVoidExpression(e)) return isCall(e.expression);
  return ts.isCallExpression(e) && e.expression.kind !== ts.SyntaxKind.SuperKeyword;
}

/**
 * What a `return v;` could wrongly return instead: the opposite for a boolean, else `undefined`
 * or `null` when the function's (awaited) return type admits it. Literal `true`/`false` are left
 * to the `boolean` operator.
 */
function returnReplacement(
  stmt: ts.ReturnStatement,
  value: ts.Expression,
  checker: ts.TypeChecker,
  isBoolean: (n: ts.Node) => boolean,
): string | undefined {
  if (value.kind === ts.SyntaxKind.TrueKeyword || value.kind === ts.SyntaxKind.FalseKeyword)
    return undefined;
  if (isBoolean(value)) return `!(${value.getText()})`;
  let fn: ts.Node | undefined = stmt.parent;
  while (fn !== undefined && !ts.isFunctionLike(fn)) fn = fn.parent;
  if (fn === undefined) return undefined;
  const sig = checker.getSignatureFromDeclaration(fn as ts.SignatureDeclaration);
  if (sig === undefined) return undefined;
  let type = checker.getReturnTypeOfSignature(sig);
  if (ts.getCombinedModifierFlags(fn as ts.Declaration) & ts.ModifierFlags.Async)
    type = checker.getAwaitedType(type) ?? type;
  const parts = type.isUnion() ? type.types : [type];
  const has = (flags: ts.TypeFlags) => parts.some((t) => (t.getFlags() & flags) !== 0);
  const v = value.getText();
  if (has(ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Any | ts.TypeFlags.Unknown))
    return v === 'undefined' ? undefined : 'undefined';
  if (has(ts.TypeFlags.Null)) return v === 'null' ? undefined : 'null';
  return undefined;
}
