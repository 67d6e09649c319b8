/**
 * A small evaluator for exactly the DynamoDB expression forms the simulator supports. Anything else throws
 * `simulator: unsupported expression ...` (a {@link SimulatorGapError}), never a guess.
 *
 * Conditions: `attribute_exists(p)`, `attribute_not_exists(p)`, `contains(p, v)`, `begins_with(p, v)`,
 * `attribute_type(p, :t)`, comparisons `= <> < <= > >=`, `AND`, `OR`, `NOT`, parentheses.
 * Updates: `SET p = v [, ...]` where v is an operand, `if_not_exists(p, v)`, `list_append(v, v)` or `v + v` /
 * `v - v`; `REMOVE p [, ...]`. Operands are top-level attribute names (`name` or `#alias`) and `:values`;
 * nested paths (`a.b`, `a[0]`), `size()`, `BETWEEN`, `IN`, `ADD` and `DELETE` are unsupported.
 *
 * As DynamoDB does, it rejects reserved words used as bare names, undefined `#names`/`:values`, and names or
 * values supplied but never used (the classic `ValidationException`s), via {@link ExpressionValidationError}.
 */
import { SimulatorGapError } from "./errors";
import type { AttributeValue, Item } from "./state";

/** A request DynamoDB itself rejects (becomes a `ValidationException`). */
export class ExpressionValidationError extends Error {
    override name = "ExpressionValidationError";
}

function unsupported(detail: string): SimulatorGapError {
    return new SimulatorGapError(`simulator: unsupported expression: ${detail}`);
}

/** Common attribute names that are DynamoDB reserved words (a subset of the documented list). */
const RESERVED = new Set(
    (
        "ACTION ADD ALL AND ATTRIBUTE BETWEEN BINARY BY CASE CLOSE COMMENT CONDITION COUNT DATA DATE DELETE DOMAIN END " +
        "ERROR EXISTS EXPRESSION FROM GROUP HASH IN INDEX INSERT ITEM ITEMS KEY KEYS LEVEL LIST LOCK MAP MODE NAME NAMES NOT NULL " +
        "NUMBER OPEN OR ORDER OWNER PATH PERCENT RANGE REGION RESULT ROLE SELECT SESSION SET SIZE SOURCE START STATE STATUS " +
        "STRING TABLE TIME TIMESTAMP TOKEN TOTAL TTL TYPE UPDATE USER USERS VALUE VALUES WHERE ZONE"
    ).split(" "),
);

type Token =
    | { kind: "ident"; text: string }
    | { kind: "name"; text: string }
    | { kind: "value"; text: string }
    | { kind: "punct"; text: string };

function tokenize(expression: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < expression.length) {
        const c = expression[i] as string;
        if (/\s/.test(c)) {
            i++;
            continue;
        }
        const rest = expression.slice(i);
        const word = /^[#:]?[A-Za-z0-9_]+/.exec(rest);
        if (word) {
            const text = word[0];
            tokens.push(text.startsWith("#") ? { kind: "name", text } : text.startsWith(":") ? { kind: "value", text } : { kind: "ident", text });
            i += text.length;
            continue;
        }
        const punct = /^(<>|<=|>=|[()=<>,+\-.[\]])/.exec(rest);
        if (!punct) throw new ExpressionValidationError(`Invalid expression: Syntax error; token: "${c}", near: "${rest.slice(0, 10)}"`);
        tokens.push({ kind: "punct", text: punct[0] });
        i += punct[0].length;
    }
    return tokens;
}

/** Names and values of one request, with which of them the expressions used. */
export class ExpressionContext {
    readonly usedNames = new Set<string>();
    readonly usedValues = new Set<string>();

    constructor(
        readonly names: Record<string, string> | undefined,
        readonly values: Record<string, AttributeValue> | undefined,
    ) {
        if (values && Object.keys(values).length === 0) throw new ExpressionValidationError("ExpressionAttributeValues must not be empty");
        if (names && Object.keys(names).length === 0) throw new ExpressionValidationError("ExpressionAttributeNames must not be empty");
    }

    name(token: string, where: string): string {
        const resolved = this.names?.[token];
        if (resolved === undefined) {
            throw new ExpressionValidationError(`Invalid ${where}: An expression attribute name used in the document path is not defined; attribute name: ${token}`);
        }
        this.usedNames.add(token);
        return resolved;
    }

    value(token: string, where: string): AttributeValue {
        const resolved = this.values?.[token];
        if (resolved === undefined) {
            throw new ExpressionValidationError(`Invalid ${where}: An expression attribute value used in expression is not defined; attribute value: ${token}`);
        }
        this.usedValues.add(token);
        return resolved;
    }

    /** DynamoDB rejects names/values that no expression of the request used. */
    assertAllUsed(): void {
        const unusedValues = Object.keys(this.values ?? {}).filter((k) => !this.usedValues.has(k));
        if (unusedValues.length > 0) {
            throw new ExpressionValidationError(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(", ")}}`);
        }
        const unusedNames = Object.keys(this.names ?? {}).filter((k) => !this.usedNames.has(k));
        if (unusedNames.length > 0) {
            throw new ExpressionValidationError(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(", ")}}`);
        }
    }
}

type Operand =
    | { kind: "path"; name: string }
    | { kind: "value"; value: AttributeValue }
    | { kind: "if_not_exists"; name: string; fallback: Operand }
    | { kind: "list_append"; left: Operand; right: Operand }
    | { kind: "arith"; op: "+" | "-"; left: Operand; right: Operand };

type Condition =
    | { kind: "and" | "or"; left: Condition; right: Condition }
    | { kind: "not"; inner: Condition }
    | { kind: "exists" | "not_exists"; name: string }
    | { kind: "contains" | "begins_with"; name: string; operand: Operand }
    | { kind: "attribute_type"; name: string; operand: Operand }
    | { kind: "compare"; op: string; left: Operand; right: Operand };

class Parser {
    private pos = 0;
    private readonly tokens: Token[];

    constructor(
        expression: string,
        private readonly ctx: ExpressionContext,
        private readonly where: string,
    ) {
        this.tokens = tokenize(expression);
    }

    private peek(offset = 0): Token | undefined {
        return this.tokens[this.pos + offset];
    }

    private isKeyword(word: string, offset = 0): boolean {
        const t = this.peek(offset);
        return t?.kind === "ident" && t.text.toUpperCase() === word;
    }

    private isPunct(text: string, offset = 0): boolean {
        const t = this.peek(offset);
        return t?.kind === "punct" && t.text === text;
    }

    private expectPunct(text: string): void {
        if (!this.isPunct(text)) throw new ExpressionValidationError(`Invalid ${this.where}: Syntax error; expected "${text}" near token ${this.pos}`);
        this.pos++;
    }

    atEnd(): boolean {
        return this.pos >= this.tokens.length;
    }

    /** A top-level attribute name (`name` or `#alias`); nested paths are unsupported. */
    path(): string {
        const t = this.peek();
        if (!t || (t.kind !== "ident" && t.kind !== "name")) throw new ExpressionValidationError(`Invalid ${this.where}: Syntax error; expected an attribute name`);
        this.pos++;
        let name: string;
        if (t.kind === "name") name = this.ctx.name(t.text, this.where);
        else {
            if (RESERVED.has(t.text.toUpperCase())) {
                throw new ExpressionValidationError(`Invalid ${this.where}: Attribute name is a reserved keyword; reserved keyword: ${t.text}`);
            }
            name = t.text;
        }
        if (this.isPunct(".") || this.isPunct("[")) throw unsupported(`nested document path after "${name}" in ${this.where}`);
        return name;
    }

    private simpleOperand(): Operand {
        const t = this.peek();
        if (t?.kind === "value") {
            this.pos++;
            return { kind: "value", value: this.ctx.value(t.text, this.where) };
        }
        if (t?.kind === "ident" && this.isPunct("(", 1)) {
            const fn = t.text;
            if (fn === "if_not_exists") {
                this.pos += 2;
                const name = this.path();
                this.expectPunct(",");
                const fallback = this.operand();
                this.expectPunct(")");
                return { kind: "if_not_exists", name, fallback };
            }
            if (fn === "list_append") {
                this.pos += 2;
                const left = this.operand();
                this.expectPunct(",");
                const right = this.operand();
                this.expectPunct(")");
                return { kind: "list_append", left, right };
            }
            throw unsupported(`function ${fn}() in ${this.where}`);
        }
        return { kind: "path", name: this.path() };
    }

    /** An update value: operand, optionally `+`/`-` another. */
    operand(): Operand {
        const left = this.simpleOperand();
        if (this.isPunct("+") || this.isPunct("-")) {
            const op = (this.peek() as Token).text as "+" | "-";
            this.pos++;
            return { kind: "arith", op, left, right: this.simpleOperand() };
        }
        return left;
    }

    condition(): Condition {
        let left = this.andCondition();
        while (this.isKeyword("OR")) {
            this.pos++;
            left = { kind: "or", left, right: this.andCondition() };
        }
        return left;
    }

    private andCondition(): Condition {
        let left = this.notCondition();
        while (this.isKeyword("AND")) {
            this.pos++;
            left = { kind: "and", left, right: this.notCondition() };
        }
        return left;
    }

    private notCondition(): Condition {
        if (this.isKeyword("NOT")) {
            this.pos++;
            return { kind: "not", inner: this.notCondition() };
        }
        return this.primaryCondition();
    }

    private primaryCondition(): Condition {
        if (this.isPunct("(")) {
            this.pos++;
            const inner = this.condition();
            this.expectPunct(")");
            return inner;
        }
        const t = this.peek();
        if (t?.kind === "ident" && this.isPunct("(", 1)) {
            const fn = t.text;
            this.pos += 2;
            let result: Condition;
            if (fn === "attribute_exists" || fn === "attribute_not_exists") {
                result = { kind: fn === "attribute_exists" ? "exists" : "not_exists", name: this.path() };
            } else if (fn === "contains" || fn === "begins_with" || fn === "attribute_type") {
                const name = this.path();
                this.expectPunct(",");
                result = { kind: fn, name, operand: this.simpleOperand() };
            } else throw unsupported(`function ${fn}() in ${this.where}`);
            this.expectPunct(")");
            return result;
        }
        const left = this.simpleOperand();
        const op = this.peek();
        if (op?.kind === "ident" && (op.text.toUpperCase() === "BETWEEN" || op.text.toUpperCase() === "IN")) {
            throw unsupported(`${op.text.toUpperCase()} in ${this.where}`);
        }
        if (!op || op.kind !== "punct" || !["=", "<>", "<", "<=", ">", ">="].includes(op.text)) {
            throw new ExpressionValidationError(`Invalid ${this.where}: Syntax error; expected a comparator`);
        }
        this.pos++;
        return { kind: "compare", op: op.text, left, right: this.simpleOperand() };
    }

    /** `a, #b, c` (a projection). */
    nameList(): string[] {
        const names = [this.path()];
        while (this.isPunct(",")) {
            this.pos++;
            names.push(this.path());
        }
        if (!this.atEnd()) throw new ExpressionValidationError(`Invalid ${this.where}: Syntax error; unexpected trailing tokens`);
        return names;
    }

    /** `SET a = v, ... REMOVE b, ...` in any order. */
    update(): { set: { name: string; value: Operand }[]; remove: string[] } {
        const set: { name: string; value: Operand }[] = [];
        const remove: string[] = [];
        while (!this.atEnd()) {
            const t = this.peek();
            const keyword = t?.kind === "ident" ? t.text.toUpperCase() : "";
            if (keyword === "ADD" || keyword === "DELETE") throw unsupported(`${keyword} clause in ${this.where}`);
            if (keyword !== "SET" && keyword !== "REMOVE") throw new ExpressionValidationError(`Invalid ${this.where}: Syntax error; expected SET or REMOVE`);
            this.pos++;
            for (;;) {
                if (keyword === "SET") {
                    const name = this.path();
                    this.expectPunct("=");
                    set.push({ name, value: this.operand() });
                } else remove.push(this.path());
                if (!this.isPunct(",")) break;
                this.pos++;
            }
        }
        return { set, remove };
    }
}

function typeOf(value: AttributeValue): string {
    const keys = Object.keys(value);
    if (keys.length !== 1) throw new ExpressionValidationError(`Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes`);
    return keys[0] as string;
}

/** DynamoDB equality: numbers by value, sets regardless of order, lists and maps deeply. */
export function attributeEquals(a: AttributeValue, b: AttributeValue): boolean {
    const ta = typeOf(a);
    if (ta !== typeOf(b)) return false;
    const va = a[ta];
    const vb = b[ta];
    switch (ta) {
        case "N":
            return Number(va) === Number(vb);
        case "S":
        case "B":
        case "BOOL":
        case "NULL":
            return String(va) === String(vb);
        case "SS":
        case "BS": {
            const sa = new Set(va as string[]);
            const sb = new Set(vb as string[]);
            return sa.size === sb.size && [...sa].every((x) => sb.has(x));
        }
        case "NS": {
            const na = new Set((va as string[]).map(Number));
            const nb = new Set((vb as string[]).map(Number));
            return na.size === nb.size && [...na].every((x) => nb.has(x));
        }
        case "L": {
            const la = va as AttributeValue[];
            const lb = vb as AttributeValue[];
            return la.length === lb.length && la.every((x, i) => attributeEquals(x, lb[i] as AttributeValue));
        }
        case "M": {
            const ma = va as Record<string, AttributeValue>;
            const mb = vb as Record<string, AttributeValue>;
            const ka = Object.keys(ma);
            return ka.length === Object.keys(mb).length && ka.every((k) => mb[k] !== undefined && attributeEquals(ma[k] as AttributeValue, mb[k] as AttributeValue));
        }
        default:
            throw unsupported(`AttributeValue type ${ta}`);
    }
}

function evalOperand(operand: Operand, item: Item | undefined, where: string): AttributeValue | undefined {
    switch (operand.kind) {
        case "value":
            return operand.value;
        case "path":
            return item?.[operand.name];
        case "if_not_exists":
            return item?.[operand.name] ?? evalOperand(operand.fallback, item, where);
        case "list_append": {
            const left = evalOperand(operand.left, item, where);
            const right = evalOperand(operand.right, item, where);
            if (!left || !right || !Array.isArray(left.L) || !Array.isArray(right.L)) {
                throw new ExpressionValidationError(`Invalid ${where}: Incorrect operand type for operator or function; operator or function: list_append, operand type: ${left ? typeOf(left) : "missing"}`);
            }
            return { L: [...(left.L as AttributeValue[]), ...(right.L as AttributeValue[])] };
        }
        case "arith": {
            const left = evalOperand(operand.left, item, where);
            const right = evalOperand(operand.right, item, where);
            if (left?.N === undefined || right?.N === undefined) {
                throw new ExpressionValidationError(`Invalid ${where}: Incorrect operand type for operator or function; operator: ${operand.op}, operand type: ${left ? typeOf(left) : "missing"}`);
            }
            const n = operand.op === "+" ? Number(left.N) + Number(right.N) : Number(left.N) - Number(right.N);
            return { N: String(n) };
        }
    }
}

function compare(op: string, a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
    if (a === undefined || b === undefined) return op === "<>" ? a !== b : false;
    if (op === "=") return attributeEquals(a, b);
    if (op === "<>") return !attributeEquals(a, b);
    const ta = typeOf(a);
    if (ta !== typeOf(b) || (ta !== "N" && ta !== "S")) return false;
    const x = ta === "N" ? Number(a.N) : String(a.S);
    const y = ta === "N" ? Number(b.N) : String(b.S);
    switch (op) {
        case "<":
            return x < y;
        case "<=":
            return x <= y;
        case ">":
            return x > y;
        default:
            return x >= y;
    }
}

function evalCondition(c: Condition, item: Item | undefined, where: string): boolean {
    switch (c.kind) {
        case "and":
            return evalCondition(c.left, item, where) && evalCondition(c.right, item, where);
        case "or":
            return evalCondition(c.left, item, where) || evalCondition(c.right, item, where);
        case "not":
            return !evalCondition(c.inner, item, where);
        case "exists":
            return item?.[c.name] !== undefined;
        case "not_exists":
            return item?.[c.name] === undefined;
        case "contains": {
            const have = item?.[c.name];
            const want = evalOperand(c.operand, item, where);
            if (!have || !want) return false;
            if (typeof have.S === "string" && typeof want.S === "string") return have.S.includes(want.S);
            if (Array.isArray(have.SS) && typeof want.S === "string") return (have.SS as string[]).includes(want.S);
            if (Array.isArray(have.NS) && typeof want.N === "string") return (have.NS as string[]).some((n) => Number(n) === Number(want.N));
            if (Array.isArray(have.L)) return (have.L as AttributeValue[]).some((x) => attributeEquals(x, want));
            return false;
        }
        case "begins_with": {
            const have = item?.[c.name];
            const want = evalOperand(c.operand, item, where);
            return typeof have?.S === "string" && typeof want?.S === "string" && have.S.startsWith(want.S);
        }
        case "attribute_type": {
            const have = item?.[c.name];
            const want = evalOperand(c.operand, item, where);
            return have !== undefined && typeof want?.S === "string" && typeOf(have) === want.S;
        }
        case "compare":
            return compare(c.op, evalOperand(c.left, item, where), evalOperand(c.right, item, where));
    }
}

/** Parse a condition once; evaluate it against an item (undefined = no such item). */
export function compileCondition(expression: string, ctx: ExpressionContext): (item: Item | undefined) => boolean {
    const where = "ConditionExpression";
    const parser = new Parser(expression, ctx, where);
    const condition = parser.condition();
    if (!parser.atEnd()) throw new ExpressionValidationError(`Invalid ${where}: Syntax error; unexpected trailing tokens`);
    return (item) => evalCondition(condition, item, where);
}

/** Parse an update once; apply it to a copy of the item (which may not exist yet). */
export function compileUpdate(expression: string, ctx: ExpressionContext, keyNames: string[]): { apply: (item: Item) => Item; touched: string[] } {
    const where = "UpdateExpression";
    const parser = new Parser(expression, ctx, where);
    const { set, remove } = parser.update();
    const touched = [...set.map((s) => s.name), ...remove];
    for (const name of touched) {
        if (keyNames.includes(name)) {
            throw new ExpressionValidationError(`One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`);
        }
    }
    if (new Set(touched).size !== touched.length) {
        throw new ExpressionValidationError(`Invalid ${where}: Two document paths overlap with each other; must remove or rewrite one of these paths`);
    }
    return {
        touched,
        apply: (item) => {
            const next: Item = { ...item };
            // Every value is computed from the item as it was before the update, as DynamoDB does.
            const values = set.map((s) => {
                const value = evalOperand(s.value, item, where);
                if (value === undefined) {
                    throw new ExpressionValidationError(`The provided expression refers to an attribute that does not exist in the item`);
                }
                return { name: s.name, value };
            });
            for (const { name, value } of values) next[name] = structuredClone(value);
            for (const name of remove) delete next[name];
            return next;
        },
    };
}

/** `a, #b` -> attribute names (top-level only). */
export function compileProjection(expression: string, ctx: ExpressionContext): string[] {
    const where = "ProjectionExpression";
    return new Parser(expression, ctx, where).nameList();
}
