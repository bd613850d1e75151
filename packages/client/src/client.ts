import type {
  BatchReadResponse,
  ComputeHistoryResponse,
  ComputeJobRecord,
  ComputeJobStats,
  DeleteCategoryResponse,
  DeleteEntityResponse,
  HealthResponse,
  MergeRequest,
  MultiReadResponse,
  RecordResponse,
  WriteRequest,
  WriteResponse,
} from './contract-types.js';
import { createTransport, type TransportOptions } from './transport.js';

export interface ClientOptions extends TransportOptions {
  /**
   * `meta.source` of writes, merges, reads and deletes when a call names none (writes and
   * deletes need one of the service's `WRITE_SOURCES`).
   */
  source?: string | undefined;
}

/** One record: (entity type, entity value, category). */
export interface RecordRef {
  entityType: string;
  entityValue: string;
  category: string;
}

export interface WriteInput extends RecordRef {
  features: WriteRequest['data']['features'];
  source?: string | undefined;
  computeId?: string | null | undefined;
  /** RFC 3339, any offset: as of when the features were computed (older than stored → 409). */
  eventTime?: string | null | undefined;
}

export interface MergeInput extends WriteInput {
  /** Features to add or replace; `null` removes that feature. */
  features: MergeRequest['data']['features'];
}

export interface ReadFeaturesInput {
  entityType: string;
  entityValue: string;
  /** `category:feature` or `category:*` entries. */
  featureList: string[];
  source?: string | undefined;
}

export interface ReadBatchInput {
  entityType: string;
  entityValues: string[];
  featureList: string[];
  source?: string | undefined;
}

export interface DeleteInput {
  entityType: string;
  entityValue: string;
  /** Without a category every category of the entity is erased. */
  category?: string | undefined;
  source?: string | undefined;
}

export interface ByComputeIdOptions {
  entityType?: string | undefined;
  category?: string | undefined;
  /** Records fetched per request, 1 to 1,000 (default 100). */
  pageSize?: number | undefined;
}

export interface ByCategoryOptions {
  /** The entity type to list (default: the service's default, `bright_uid`). */
  entityType?: string | undefined;
  /** Records fetched per request, 1 to 1,000 (default 100). */
  pageSize?: number | undefined;
}

export interface FeatureStoreClient {
  /** Replaces one category's features (`POST /api/v1/items`). */
  write(input: WriteInput): Promise<WriteResponse>;
  /** Merges features into one category (`PATCH /api/v1/items`). */
  merge(input: MergeInput): Promise<WriteResponse>;
  /** One record exactly as the API returns it; `FeatureStoreNotFoundError` when there is none. */
  read(ref: RecordRef): Promise<RecordResponse>;
  /** Selected features of several categories of one entity (`POST /api/v1/get/items`). */
  readFeatures(input: ReadFeaturesInput): Promise<MultiReadResponse>;
  /** The same selection for many entities (`POST /api/v1/get/items/batch`). */
  readBatch(input: ReadBatchInput): Promise<BatchReadResponse>;
  /** Deletes one category, or erases the entity when no category is given. */
  delete(input: DeleteInput & { category: string }): Promise<DeleteCategoryResponse>;
  delete(input: DeleteInput & { category?: undefined }): Promise<DeleteEntityResponse>;
  /** The record's compute history, newest first. */
  history(ref: RecordRef): Promise<ComputeHistoryResponse>;
  /** Every record whose current compute_id is `computeId`, fetching page after page as iterated. */
  byComputeId(computeId: string, options?: ByComputeIdOptions): AsyncIterableIterator<ComputeJobRecord>;
  /** Every record of a category (whole records, as `read` returns them), page after page as iterated. */
  byCategory(category: string, options?: ByCategoryOptions): AsyncIterableIterator<RecordResponse>;
  /** A compute job's statistics; `FeatureStoreNotFoundError` for an unknown job. */
  computeJob(computeId: string): Promise<ComputeJobStats>;
  /** The health report, for a healthy (200) and an unhealthy (503) service alike; never retried. */
  health(): Promise<HealthResponse>;
}

const seg = encodeURIComponent;

/** A client of one feature-store service. */
export function createClient(options: ClientOptions): FeatureStoreClient {
  const send = createTransport(options);
  const sourceOf = (given: string | undefined, what: string): string => {
    const source = given ?? options.source;
    if (source === undefined) throw new TypeError(`${what} needs a source: pass { source } to the call or to createClient`);
    return source;
  };
  const writeBody = (input: WriteInput, what: string) => ({
    meta: {
      source: sourceOf(input.source, what),
      ...(input.computeId === undefined ? {} : { compute_id: input.computeId }),
      ...(input.eventTime === undefined ? {} : { event_time: input.eventTime }),
    },
    data: { entity_type: input.entityType, entity_value: input.entityValue, category: input.category, features: input.features },
  });

  /** Follows `next_cursor` page after page (a page type with `records` and `next_cursor`). */
  async function* paged<T>(path: string, query: Record<string, string | undefined>): AsyncIterableIterator<T> {
    let cursor: string | undefined;
    do {
      const page = (await send({ method: 'GET', path, query: { ...query, cursor } })).body as { records: T[]; next_cursor: string | null };
      yield* page.records;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** A read's body: `meta.source` names the caller (any name on reads). */
  const readRequest = (path: string, source: string | undefined, data: Record<string, unknown>) =>
    send({ method: 'POST', path, body: { meta: { source: source ?? options.source ?? 'feature-store-client' }, data } });

  const client = {
    write: async (input: WriteInput) =>
      (await send({ method: 'POST', path: '/api/v1/items', body: writeBody(input, 'write') })).body as WriteResponse,
    merge: async (input: MergeInput) =>
      (await send({ method: 'PATCH', path: '/api/v1/items', body: writeBody(input, 'merge') })).body as WriteResponse,
    read: async (ref: RecordRef) =>
      (
        await send({
          method: 'GET',
          path: `/api/v1/get/item/${seg(ref.entityValue)}/${seg(ref.category)}`,
          query: { entity_type: ref.entityType },
        })
      ).body as RecordResponse,
    readFeatures: async (input: ReadFeaturesInput) =>
      (
        await readRequest('/api/v1/get/items', input.source, {
          entity_type: input.entityType,
          entity_value: input.entityValue,
          feature_list: input.featureList,
        })
      ).body as MultiReadResponse,
    readBatch: async (input: ReadBatchInput) =>
      (
        await readRequest('/api/v1/get/items/batch', input.source, {
          entity_type: input.entityType,
          entity_values: input.entityValues,
          feature_list: input.featureList,
        })
      ).body as BatchReadResponse,
    delete: async (input: DeleteInput) =>
      (
        await send({
          method: 'DELETE',
          path: `/api/v1/items/${seg(input.entityType)}/${seg(input.entityValue)}${input.category === undefined ? '' : `/${seg(input.category)}`}`,
          query: { source: sourceOf(input.source, 'delete') },
        })
      ).body,
    history: async (ref: RecordRef) =>
      (
        await send({
          method: 'GET',
          path: `/api/v1/get/item/${seg(ref.entityValue)}/${seg(ref.category)}/history`,
          query: { entity_type: ref.entityType },
        })
      ).body as ComputeHistoryResponse,
    byComputeId: (computeId: string, opts: ByComputeIdOptions = {}) =>
      paged<ComputeJobRecord>(`/api/v1/features/by-compute-id/${seg(computeId)}`, {
        entity_type: opts.entityType,
        category: opts.category,
        limit: opts.pageSize?.toString(),
      }),
    byCategory: (category: string, opts: ByCategoryOptions = {}) =>
      paged<RecordResponse>(`/api/v1/features/by-category/${seg(category)}`, { entity_type: opts.entityType, limit: opts.pageSize?.toString() }),
    computeJob: async (computeId: string) =>
      (await send({ method: 'GET', path: `/api/v1/compute-jobs/${seg(computeId)}` })).body as ComputeJobStats,
    health: async () => (await send({ method: 'GET', path: '/api/v1/health', accept: [503], retry: false })).body as HealthResponse,
  };
  return client as FeatureStoreClient;
}
