/**
 * DynamoDB for the case registry: single-item reads and conditional writes, all-or-nothing transactions, and
 * Scan (filter expression, Limit pages with LastEvaluatedKey) for the analyst's `dfir cases`.
 * Items are stored in AttributeValue form exactly as written. Reads are always strongly consistent.
 */
import type {
    DeleteItemCommandInput,
    GetItemCommandInput,
    PutItemCommandInput,
    ScanCommandInput,
    TransactWriteItemsCommandInput,
    TransactWriteItemsCommandOutput,
    UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { notImplemented } from "../errors";
import { compileCondition, compileProjection, compileUpdate, ExpressionContext, ExpressionValidationError } from "../expressions";
import type { AttributeValue, Item, TableState } from "../state";
import { required, type CallContext, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;
/**
 * Item-returning outputs are typed with the simulator's `Item` (plain AttributeValue maps): the SDK's
 * AttributeValue union adds a `$unknown` member no real item has.
 */
type DynamoOut = { Item?: Item; Attributes?: Item };

/** DynamoDB's item size limit (approximated by the JSON size of the item). */
const MAX_ITEM_BYTES = 400 * 1024;
const MAX_TRANSACTION_ITEMS = 100;

function tableOrThrow(world: World, ctx: CallContext, name: string | undefined): TableState {
    const tableName = required(world, ctx, name, "TableName");
    const table = world.region(ctx.accountId, ctx.region).tables[tableName];
    if (!table) throw world.error(ctx, "ResourceNotFoundException", "Requested resource not found");
    return table;
}

function keyNames(table: TableState): string[] {
    return table.sortKey ? [table.partitionKey, table.sortKey] : [table.partitionKey];
}

/** The canonical key of an item or Key map; validates it against the table's key schema. */
function keyOf(world: World, ctx: CallContext, table: TableState, item: Item, isKeyMap: boolean): string {
    const names = keyNames(table);
    if (isKeyMap && Object.keys(item).length !== names.length) {
        throw world.error(ctx, "ValidationException", "The provided key element does not match the schema");
    }
    const parts = names.map((name) => {
        const value = item[name];
        if (!value) {
            throw world.error(
                ctx,
                "ValidationException",
                isKeyMap ? "The provided key element does not match the schema" : `One or more parameter values were invalid: Missing the key ${name} in the item`,
            );
        }
        const type = Object.keys(value)[0];
        if (type !== "S" && type !== "N" && type !== "B") {
            throw world.error(ctx, "ValidationException", `One or more parameter values were invalid: Type mismatch for key ${name}`);
        }
        if (type === "S" && value.S === "") {
            throw world.error(ctx, "ValidationException", `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${name}`);
        }
        return value;
    });
    return JSON.stringify(parts);
}

function checkSize(world: World, ctx: CallContext, item: Item): void {
    if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
        throw world.error(ctx, "ValidationException", "Item size has exceeded the maximum allowed size");
    }
}

/** Expression problems DynamoDB reports become ValidationExceptions; gaps stay gaps. */
function validation<T>(world: World, ctx: CallContext, fn: () => T): T {
    try {
        return fn();
    } catch (error) {
        if (error instanceof ExpressionValidationError) throw world.error(ctx, "ValidationException", error.message);
        throw error;
    }
}

function conditionFailed(world: World, ctx: CallContext, old: Item | undefined, returnOld: string | undefined): Error {
    const extra: Record<string, unknown> = returnOld === "ALL_OLD" && old ? { Item: structuredClone(old) } : {};
    return world.error(ctx, "ConditionalCheckFailedException", "The conditional request failed", 400, extra);
}

function rejectLegacy(ctx: CallContext, input: object): void {
    for (const legacy of ["Expected", "ConditionalOperator", "AttributeUpdates", "AttributesToGet"]) {
        if ((input as Record<string, unknown>)[legacy] !== undefined) throw notImplemented(ctx.action, `with legacy parameter ${legacy}`);
    }
}

const getItem: Handler<GetItemCommandInput, DynamoOut> = (world, ctx, input) => {
    rejectLegacy(ctx, input);
    const table = tableOrThrow(world, ctx, input.TableName);
    const key = keyOf(world, ctx, table, required(world, ctx, input.Key, "Key") as unknown as Item, true);
    const item = table.items[key];
    const names = validation(world, ctx, () => {
        const ectx = new ExpressionContext(input.ExpressionAttributeNames, undefined);
        const projection = input.ProjectionExpression !== undefined ? compileProjection(input.ProjectionExpression, ectx) : undefined;
        ectx.assertAllUsed();
        return projection;
    });
    if (!item) return {};
    const copy = structuredClone(item);
    if (!names) return { Item: copy };
    return { Item: Object.fromEntries(Object.entries(copy).filter(([k]) => names.includes(k))) };
};

/**
 * Scan in key order (DynamoDB's order is unspecified; a stable one keeps pages consistent): `Limit` items are
 * evaluated per page, `FilterExpression` applies after the limit (as in DynamoDB), and `LastEvaluatedKey` is the
 * last evaluated item's key while items remain.
 */
const scan: Handler<ScanCommandInput, { Items: Item[]; Count: number; ScannedCount: number; LastEvaluatedKey?: Item }> = (world, ctx, input) => {
    rejectLegacy(ctx, input);
    for (const unsupported of ["Segment", "TotalSegments", "IndexName", "Select", "ProjectionExpression"] as const) {
        if (input[unsupported] !== undefined) throw notImplemented(ctx.action, `with ${unsupported}`);
    }
    const table = tableOrThrow(world, ctx, input.TableName);
    const filter = validation(world, ctx, () => {
        const ectx = new ExpressionContext(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined);
        const condition = input.FilterExpression !== undefined ? compileCondition(input.FilterExpression, ectx) : () => true;
        ectx.assertAllUsed();
        return condition;
    });
    const keys = Object.keys(table.items).sort();
    const start = input.ExclusiveStartKey ? keyOf(world, ctx, table, input.ExclusiveStartKey as unknown as Item, true) : undefined;
    const remaining = start === undefined ? keys : keys.filter((k) => k > start);
    const limit = input.Limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1)) throw world.error(ctx, "ValidationException", "Limit must be greater than or equal to 1");
    const page = remaining.slice(0, limit);
    const items = page.map((k) => table.items[k]).filter((item) => filter(item)).map((item) => structuredClone(item));
    const last = page.length < remaining.length ? table.items[page[page.length - 1]] : undefined;
    return {
        Items: items,
        Count: items.length,
        ScannedCount: page.length,
        ...(last ? { LastEvaluatedKey: Object.fromEntries(keyNames(table).map((n) => [n, structuredClone(last[n])])) } : {}),
    };
};

/** One write of a request or transaction, prepared (validated, condition compiled) before anything changes. */
interface PreparedWrite {
    table: TableState;
    key: string;
    check: (item: Item | undefined) => boolean;
    /** The new item (undefined = delete; null = condition check only). */
    next: (old: Item | undefined) => Item | undefined | null;
    returnOnFailure?: string;
}

function preparePut(world: World, ctx: CallContext, input: PutItemCommandInput): PreparedWrite {
    rejectLegacy(ctx, input);
    const table = tableOrThrow(world, ctx, input.TableName);
    const item = required(world, ctx, input.Item, "Item") as unknown as Item;
    const key = keyOf(world, ctx, table, item, false);
    checkSize(world, ctx, item);
    const check = validation(world, ctx, () => {
        const ectx = new ExpressionContext(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined);
        const condition = input.ConditionExpression !== undefined ? compileCondition(input.ConditionExpression, ectx) : () => true;
        ectx.assertAllUsed();
        return condition;
    });
    return { table, key, check, next: () => structuredClone(item), returnOnFailure: input.ReturnValuesOnConditionCheckFailure };
}

function prepareUpdate(world: World, ctx: CallContext, input: UpdateItemCommandInput): PreparedWrite & { touched: string[] } {
    rejectLegacy(ctx, input);
    const table = tableOrThrow(world, ctx, input.TableName);
    const keyItem = required(world, ctx, input.Key, "Key") as unknown as Item;
    const key = keyOf(world, ctx, table, keyItem, true);
    const { check, update } = validation(world, ctx, () => {
        const ectx = new ExpressionContext(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined);
        const condition = input.ConditionExpression !== undefined ? compileCondition(input.ConditionExpression, ectx) : () => true;
        const compiled = input.UpdateExpression !== undefined ? compileUpdate(input.UpdateExpression, ectx, keyNames(table)) : undefined;
        ectx.assertAllUsed();
        return { check: condition, update: compiled };
    });
    return {
        table,
        key,
        check,
        touched: update?.touched ?? [],
        // UpdateItem creates the item when it does not exist (an upsert), starting from its key.
        next: (old) => {
            const base = old ?? structuredClone(keyItem);
            const next = update ? validation(world, ctx, () => update.apply(base)) : base;
            checkSize(world, ctx, next);
            return next;
        },
        returnOnFailure: input.ReturnValuesOnConditionCheckFailure,
    };
}

function prepareKeyed(
    world: World,
    ctx: CallContext,
    input: { TableName?: string; Key?: Record<string, unknown>; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown>; ReturnValuesOnConditionCheckFailure?: string },
    effect: "delete" | "check",
): PreparedWrite {
    const table = tableOrThrow(world, ctx, input.TableName);
    const key = keyOf(world, ctx, table, required(world, ctx, input.Key, "Key") as unknown as Item, true);
    const check = validation(world, ctx, () => {
        const ectx = new ExpressionContext(input.ExpressionAttributeNames, input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined);
        const condition = input.ConditionExpression !== undefined ? compileCondition(input.ConditionExpression, ectx) : () => true;
        ectx.assertAllUsed();
        return condition;
    });
    if (effect === "check" && input.ConditionExpression === undefined) {
        throw world.error(ctx, "ValidationException", "ConditionExpression is required for ConditionCheck");
    }
    return { table, key, check, next: () => (effect === "delete" ? undefined : null), returnOnFailure: input.ReturnValuesOnConditionCheckFailure };
}

function commit(write: PreparedWrite, next: Item | undefined | null): void {
    if (next === null) return;
    if (next === undefined) delete write.table.items[write.key];
    else write.table.items[write.key] = next;
}

const putItem: Handler<PutItemCommandInput, DynamoOut> = (world, ctx, input) => {
    if (input.ReturnValues !== undefined && input.ReturnValues !== "NONE" && input.ReturnValues !== "ALL_OLD") {
        throw world.error(ctx, "ValidationException", `ReturnValues can only be ALL_OLD or NONE`);
    }
    const write = preparePut(world, ctx, input);
    const old = write.table.items[write.key];
    if (!write.check(old)) throw conditionFailed(world, ctx, old, write.returnOnFailure);
    commit(write, write.next(old));
    return input.ReturnValues === "ALL_OLD" && old ? { Attributes: structuredClone(old) } : {};
};

const updateItem: Handler<UpdateItemCommandInput, DynamoOut> = (world, ctx, input) => {
    const write = prepareUpdate(world, ctx, input);
    const old = write.table.items[write.key];
    if (!write.check(old)) throw conditionFailed(world, ctx, old, write.returnOnFailure);
    const next = write.next(old) as Item;
    commit(write, next);
    const pick = (item: Item | undefined): Item => Object.fromEntries(Object.entries(item ?? {}).filter(([k]) => write.touched.includes(k)));
    switch (input.ReturnValues ?? "NONE") {
        case "NONE":
            return {};
        case "ALL_NEW":
            return { Attributes: structuredClone(next) };
        case "ALL_OLD":
            return old ? { Attributes: structuredClone(old) } : {};
        case "UPDATED_NEW":
            return { Attributes: structuredClone(pick(next)) };
        case "UPDATED_OLD":
            return old ? { Attributes: structuredClone(pick(old)) } : {};
        default:
            throw world.error(ctx, "ValidationException", `Invalid ReturnValues: ${String(input.ReturnValues)}`);
    }
};

const transactWriteItems: Handler<TransactWriteItemsCommandInput, Out<TransactWriteItemsCommandOutput>> = (world, ctx, input) => {
    const items = required(world, ctx, input.TransactItems, "TransactItems");
    if (items.length === 0 || items.length > MAX_TRANSACTION_ITEMS) {
        throw world.error(ctx, "ValidationException", `Member must have length less than or equal to ${MAX_TRANSACTION_ITEMS} and greater than or equal to 1`);
    }
    // Validate and compile everything first: a malformed member fails the whole request before any check.
    const writes = items.map((entry) => {
        const kinds = (["Put", "Update", "Delete", "ConditionCheck"] as const).filter((k) => entry[k] !== undefined);
        if (kinds.length !== 1) throw world.error(ctx, "ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete");
        if (entry.Put) return preparePut(world, ctx, entry.Put as PutItemCommandInput);
        if (entry.Update) return prepareUpdate(world, ctx, entry.Update as UpdateItemCommandInput);
        if (entry.Delete) return prepareKeyed(world, ctx, entry.Delete, "delete");
        return prepareKeyed(world, ctx, entry.ConditionCheck ?? {}, "check");
    });
    const targets = writes.map((w) => `${w.table.name}|${w.key}`);
    if (new Set(targets).size !== targets.length) {
        throw world.error(ctx, "ValidationException", "Transaction request cannot include multiple operations on one item");
    }
    const olds = writes.map((w) => w.table.items[w.key]);
    const reasons = writes.map((w, i) => {
        const old = olds[i];
        if (w.check(old)) return { Code: "None" };
        const reason: Record<string, unknown> = { Code: "ConditionalCheckFailed", Message: "The conditional request failed" };
        if (w.returnOnFailure === "ALL_OLD" && old) reason.Item = structuredClone(old);
        return reason;
    });
    if (reasons.some((r) => r.Code !== "None")) {
        throw world.error(
            ctx,
            "TransactionCanceledException",
            `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => String(r.Code)).join(", ")}]`,
            400,
            { CancellationReasons: reasons },
        );
    }
    // Compute every new item before committing any: a failing update (wrong operand type, item too large)
    // cancels the whole transaction with a ValidationError reason, as DynamoDB reports it.
    const nexts: (Item | undefined | null)[] = [];
    const late = writes.map((w, i) => {
        try {
            nexts.push(w.next(olds[i]));
            return { Code: "None" } as Record<string, unknown>;
        } catch (error) {
            if ((error as Error).name !== "ValidationException") throw error;
            nexts.push(null);
            return { Code: "ValidationError", Message: (error as Error).message };
        }
    });
    if (late.some((r) => r.Code !== "None")) {
        throw world.error(
            ctx,
            "TransactionCanceledException",
            `Transaction cancelled, please refer cancellation reasons for specific reasons [${late.map((r) => String(r.Code)).join(", ")}]`,
            400,
            { CancellationReasons: late },
        );
    }
    writes.forEach((w, i) => commit(w, nexts[i] as Item | undefined | null));
    return {};
};

/** DeleteItem with an optional condition (release removes the open-case lock of its own case only). */
const deleteItem: Handler<DeleteItemCommandInput, DynamoOut> = (world, ctx, input) => {
    rejectLegacy(ctx, input);
    if (input.ReturnValues !== undefined && input.ReturnValues !== "NONE") throw notImplemented(ctx.action, `with ReturnValues ${input.ReturnValues}`);
    const write = prepareKeyed(world, ctx, input, "delete");
    const old = write.table.items[write.key];
    if (!write.check(old)) throw conditionFailed(world, ctx, old, input.ReturnValuesOnConditionCheckFailure);
    commit(write, undefined);
    return {};
};

export const DYNAMODB_HANDLERS: Record<string, Handler> = {
    GetItem: getItem,
    DeleteItem: deleteItem,
    Scan: scan,
    PutItem: putItem,
    UpdateItem: updateItem,
    TransactWriteItems: transactWriteItems,
};
