import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RollbackState, RollbackStateStore } from '../ports.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { VERSIONS_ATTR } from './versions.js';

/** The partition of the rollback states in the versions table (no NUL: never a record's key). */
const PARTITION = 'rollback';

/**
 * Rollback states (ports.ts `RollbackStateStore`) as items of the versions table
 * (`pk = "rollback"`, `sk = <compute id>`): the state as JSON, its status, and a lease
 * (`lease_owner`, `lease_until` in epoch ms). Several instances share the table: each takes the
 * lease with a conditional update (free, expired, or already its own) before working on a
 * rollback and saves progress only while it holds it, so one instance runs a given rollback at a
 * time; an instance that dies leaves a lease that expires, and another one resumes. Every read
 * is strongly consistent. Rollbacks are few: the list of running ones is one Query of this
 * partition.
 */
export class DynamoDbRollbacks implements RollbackStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, table: string) {
    this.#doc = doc;
    this.#table = table;
  }

  #key(computeId: string) {
    return { [VERSIONS_ATTR.pk]: PARTITION, [VERSIONS_ATTR.sk]: computeId };
  }

  async create(state: RollbackState): Promise<RollbackState> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...this.#key(state.computeId), state: JSON.stringify(state), status: state.status, lease_until: 0 },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': VERSIONS_ATTR.pk },
        }),
      );
      return state;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw translateError(err, this.#table);
    }
    const existing = await this.get(state.computeId);
    if (existing === undefined) throw new Error(`rollback state of ${state.computeId} vanished`);
    return existing;
  }

  async get(computeId: string): Promise<RollbackState | undefined> {
    try {
      const res = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: this.#key(computeId), ConsistentRead: true }));
      const state: unknown = res.Item?.state;
      return typeof state === 'string' ? (JSON.parse(state) as RollbackState) : undefined;
    } catch (err) {
      throw translateError(err, this.#table);
    }
  }

  async running(): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const res = await this.#doc.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: '#pk = :p',
            FilterExpression: '#s = :running',
            ExpressionAttributeNames: { '#pk': VERSIONS_ATTR.pk, '#s': 'status' },
            ExpressionAttributeValues: { ':p': PARTITION, ':running': 'running' },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of res.Items ?? []) if (typeof item[VERSIONS_ATTR.sk] === 'string') ids.push(item[VERSIONS_ATTR.sk] as string);
        start = res.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (err) {
      throw translateError(err, this.#table);
    }
    return ids;
  }

  async lease(computeId: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: this.#key(computeId),
        UpdateExpression: 'SET #o = :o, #u = :u',
        ConditionExpression: 'attribute_exists(#pk) AND (#u <= :now OR #o = :o)',
        ExpressionAttributeNames: { '#pk': VERSIONS_ATTR.pk, '#o': 'lease_owner', '#u': 'lease_until' },
        ExpressionAttributeValues: { ':o': owner, ':u': untilMs, ':now': nowMs },
      }),
    );
  }

  async save(state: RollbackState, owner: string): Promise<boolean> {
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: this.#key(state.computeId),
        UpdateExpression: 'SET #st = :st, #s = :s',
        ConditionExpression: '#o = :o',
        ExpressionAttributeNames: { '#st': 'state', '#s': 'status', '#o': 'lease_owner' },
        ExpressionAttributeValues: { ':st': JSON.stringify(state), ':s': state.status, ':o': owner },
      }),
    );
  }

  async #conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.#doc.send(command);
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw translateError(err, this.#table);
    }
  }
}
