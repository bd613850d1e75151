import { fromWireItem, toWireItem, type WireItem } from './attribute-codec.js';
import type { Item } from './layout.js';
import type { RecordTransport } from './direct-transport.js';

/**
 * The record path's requests on the direct transport (direct-transport.ts), in the shapes the
 * rest of the backend builds (native values, as the document client took them). Each request
 * body is written here as DynamoDB JSON (attribute-codec.ts) and a successful response arrives
 * as plain JSON. The native-shaped request goes along for the SDK's endpoint resolution (it
 * reads the table names). Errors are the SDK's, unchanged: the document client never unmarshalled
 * them either (a failed condition's `Item` and a cancelled transaction's reasons arrive as raw
 * attribute values in both), so errors.ts and write-protocol.ts read them as before.
 */
export interface GetInput {
  TableName: string;
  Key: Item;
  ConsistentRead: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}

export interface WriteAction {
  TableName: string;
  Key: Item;
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD';
}

export interface PutAction {
  TableName: string;
  Item: Item;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD';
}

/** A DeleteItem, or a transaction's Delete (the condition and its names and values optional). */
export interface DeleteAction {
  TableName: string;
  Key: Item;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

export type TransactAction = { Update: WriteAction } | { Put: PutAction } | { Delete: DeleteAction };

interface WireOutput {
  Item?: WireItem;
  Attributes?: WireItem;
  Responses?: Record<string, WireItem[]>;
  UnprocessedKeys?: Record<string, { Keys?: WireItem[] }>;
}

export async function getItem(transport: RecordTransport, input: GetInput): Promise<Item | undefined> {
  const res = (await transport.send('GetItem', input, input.TableName, JSON.stringify({ ...input, Key: toWireItem(input.Key) }))) as WireOutput;
  return res.Item === undefined ? undefined : fromWireItem(res.Item);
}

function updateWire(a: WriteAction): object {
  return { ...a, Key: toWireItem(a.Key), ExpressionAttributeValues: toWireItem(a.ExpressionAttributeValues) };
}

function putWire(a: PutAction): object {
  return { ...a, Item: toWireItem(a.Item) };
}

function deleteWire(a: DeleteAction): object {
  const values = a.ExpressionAttributeValues;
  return values === undefined ? { ...a, Key: toWireItem(a.Key) } : { ...a, Key: toWireItem(a.Key), ExpressionAttributeValues: toWireItem(values) };
}

export async function updateItem(transport: RecordTransport, action: WriteAction): Promise<void> {
  await transport.send('UpdateItem', action, action.TableName, JSON.stringify(updateWire(action)));
}

/** An UpdateItem that returns the whole item as it is after the update (`ReturnValues: ALL_NEW`). */
export async function updateItemReturningNew(transport: RecordTransport, action: WriteAction): Promise<Item | undefined> {
  const res = (await transport.send('UpdateItem', action, action.TableName, JSON.stringify({ ...updateWire(action), ReturnValues: 'ALL_NEW' }))) as WireOutput;
  return res.Attributes === undefined ? undefined : fromWireItem(res.Attributes);
}

/**
 * A DeleteItem; with `returnOld` it returns the deleted item (`ReturnValues: ALL_OLD`), undefined
 * when there was none.
 */
export async function deleteItem(transport: RecordTransport, action: DeleteAction, returnOld: boolean): Promise<Item | undefined> {
  const body = returnOld ? { ...deleteWire(action), ReturnValues: 'ALL_OLD' } : deleteWire(action);
  const res = (await transport.send('DeleteItem', action, action.TableName, JSON.stringify(body))) as WireOutput;
  return res.Attributes === undefined ? undefined : fromWireItem(res.Attributes);
}

export async function putItem(transport: RecordTransport, action: PutAction): Promise<void> {
  await transport.send('PutItem', action, action.TableName, JSON.stringify(putWire(action)));
}

export async function transactWrite(transport: RecordTransport, actions: TransactAction[]): Promise<void> {
  const wire = actions.map((a) => ('Update' in a ? { Update: updateWire(a.Update) } : 'Put' in a ? { Put: putWire(a.Put) } : { Delete: deleteWire(a.Delete) }));
  const tables = actions.map((a) => ('Update' in a ? a.Update.TableName : 'Put' in a ? a.Put.TableName : a.Delete.TableName));
  await transport.send('TransactWriteItems', { TransactItems: actions }, tables.join(','), JSON.stringify({ TransactItems: wire }));
}

export interface BatchGetRequest {
  Keys: Item[];
  ConsistentRead: boolean;
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
}

/** One BatchGetItem: the items found per table, and the keys left unprocessed per table. */
export async function batchGetItem(
  transport: RecordTransport,
  requestItems: Record<string, BatchGetRequest>,
): Promise<{ responses: [string, Item][]; unprocessed: Map<string, Item[]> }> {
  const wire: Record<string, object> = {};
  for (const table in requestItems) {
    const r = requestItems[table];
    if (r !== undefined) wire[table] = { ...r, Keys: r.Keys.map(toWireItem) };
  }
  const res = (await transport.send('BatchGetItem', { RequestItems: requestItems }, Object.keys(requestItems).join(','), JSON.stringify({ RequestItems: wire }))) as WireOutput;
  const responses: [string, Item][] = [];
  for (const [table, items] of Object.entries(res.Responses ?? {})) {
    for (const item of items) responses.push([table, fromWireItem(item)]);
  }
  const unprocessed = new Map<string, Item[]>();
  for (const [table, entry] of Object.entries(res.UnprocessedKeys ?? {})) {
    if (entry.Keys !== undefined && entry.Keys.length > 0) unprocessed.set(table, entry.Keys.map(fromWireItem));
  }
  return { responses, unprocessed };
}
