import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type KeysAndAttributes,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { marshalItem, unmarshalItem } from './attribute-codec.js';
import type { Item } from './layout.js';

/**
 * The record path's requests on the bare client (client.ts `bare`), in the shapes the rest of
 * the backend builds (native values, as the document client took them). Values are
 * (un)marshalled by attribute-codec.ts. Errors are the SDK's, unchanged: the document client
 * never unmarshalled them either (a failed condition's `Item` and a cancelled transaction's
 * reasons arrive as raw attribute values in both), so errors.ts and write-protocol.ts read
 * them as before.
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

export type TransactAction = { Update: WriteAction } | { Put: PutAction };

export async function getItem(client: DynamoDBClient, input: GetInput): Promise<Item | undefined> {
  const res = await client.send(new GetItemCommand({ ...input, Key: marshalItem(input.Key) }));
  return res.Item === undefined ? undefined : unmarshalItem(res.Item);
}

function update(a: WriteAction): WriteAction & { Key: Record<string, AttributeValue>; ExpressionAttributeValues: Record<string, AttributeValue> } {
  return { ...a, Key: marshalItem(a.Key), ExpressionAttributeValues: marshalItem(a.ExpressionAttributeValues) };
}

function put(a: PutAction): PutAction & { Item: Record<string, AttributeValue> } {
  return { ...a, Item: marshalItem(a.Item) };
}

export async function updateItem(client: DynamoDBClient, action: WriteAction): Promise<void> {
  await client.send(new UpdateItemCommand(update(action)));
}

export async function putItem(client: DynamoDBClient, action: PutAction): Promise<void> {
  await client.send(new PutItemCommand(put(action)));
}

export async function transactWrite(client: DynamoDBClient, actions: readonly TransactAction[]): Promise<void> {
  const items: TransactWriteItem[] = actions.map((a) => ('Update' in a ? { Update: update(a.Update) } : { Put: put(a.Put) }));
  await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
}

export interface BatchGetRequest {
  Keys: Item[];
  ConsistentRead: boolean;
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
}

/** One BatchGetItem: the items found per table, and the keys left unprocessed per table. */
export async function batchGetItem(
  client: DynamoDBClient,
  requestItems: Record<string, BatchGetRequest>,
): Promise<{ responses: [string, Item][]; unprocessed: Map<string, Item[]> }> {
  const wire: Record<string, KeysAndAttributes> = {};
  for (const table in requestItems) {
    const r = requestItems[table];
    if (r !== undefined) wire[table] = { ...r, Keys: r.Keys.map(marshalItem) };
  }
  const res = await client.send(new BatchGetItemCommand({ RequestItems: wire }));
  const responses: [string, Item][] = [];
  for (const [table, items] of Object.entries(res.Responses ?? {})) {
    for (const item of items) responses.push([table, unmarshalItem(item)]);
  }
  const unprocessed = new Map<string, Item[]>();
  for (const [table, entry] of Object.entries(res.UnprocessedKeys ?? {})) {
    if (entry.Keys !== undefined && entry.Keys.length > 0) unprocessed.set(table, entry.Keys.map(unmarshalItem));
  }
  return { responses, unprocessed };
}
