import { api, ApiError, enc } from './api.js';
import { entityHref, h, jobHref, navLink, time } from './dom.js';

const PAGE = 50;
const META_FIELDS = ['created_at', 'updated_at', 'compute_id', 'event_time', 'expires_at'];

/** A compute id as a link to its job, or "none". */
function computeLink(id) {
  return id === null || id === undefined ? h('span', { class: 'empty' }, 'none') : navLink(jobHref(id), h('code', {}, id));
}

function featuresTable(data) {
  const names = Object.keys(data);
  if (names.length === 0) return h('p', { class: 'empty' }, 'No features.');
  return h(
    'table',
    { class: 'features' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Feature'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, names.map((name) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, name)), h('td', {}, h('code', {}, JSON.stringify(data[name])))))),
  );
}

function metaList(meta) {
  const rows = META_FIELDS.filter((f) => f in meta).map((f) => [
    h('dt', {}, f),
    h('dd', { 'data-field': f }, f === 'compute_id' ? computeLink(meta[f]) : meta[f] === null ? 'none' : time(String(meta[f]))),
  ]);
  return h('dl', { class: 'meta' }, rows);
}

function historyList(history) {
  if (history instanceof ApiError) return h('p', { class: 'unavailable' }, `History unavailable: ${history.message}`);
  if (history.compute_history.length === 0) return h('p', { class: 'empty' }, 'No compute history kept.');
  return h('ol', { class: 'history' }, history.compute_history.map((e) => h('li', {}, computeLink(e.compute_id), time(e.timestamp))));
}

function recordCard(category, record, history) {
  const { data, meta } = record.features;
  return h(
    'section',
    { class: 'card', 'data-category': category, 'aria-labelledby': `cat-${category}` },
    h('h2', { id: `cat-${category}` }, category),
    h(
      'div',
      { class: 'columns' },
      h('div', {}, h('h3', {}, 'Features'), featuresTable(data)),
      h('div', {}, h('h3', {}, 'Metadata'), metaList(meta), h('h3', {}, 'Compute history'), historyList(history)),
    ),
  );
}

/**
 * One entity: every readable category in one multi-read (`category:*` for each), then each
 * found record's compute history. Rejects with ApiError; nothing found is a 404 of its own.
 */
export async function entityView(config, entityType, entityValue) {
  if (config.categories.length === 0) throw new ApiError(403, 'FORBIDDEN', 'This API key may not read any category');
  const read = await api('/api/v1/get/items', {
    meta: { source: 'web-ui' },
    data: { entity_type: entityType, entity_value: entityValue, feature_list: config.categories.map((c) => `${c}:*`) },
  });
  const found = config.categories.filter((c) => read.items[c] !== undefined);
  if (found.length === 0) {
    throw new ApiError(404, 'NOT_FOUND', `No record of ${entityType} '${entityValue}' in any category (${config.categories.join(', ')})`);
  }
  const histories = await Promise.all(
    found.map((c) => api(`/api/v1/get/item/${enc(entityValue)}/${enc(c)}/history?entity_type=${enc(entityType)}`).catch((err) => {
      if (err instanceof ApiError && err.status !== 401) return err;
      throw err;
    })),
  );
  const missing = read.unavailable_feature_categories;
  return h(
    'article',
    { class: 'entity' },
    h('h2', {}, `${entityType} `, h('code', { id: 'entity-title' }, entityValue)),
    h('p', { class: 'summary' }, `${found.length} of ${config.categories.length} categories`, missing.length > 0 ? `; not present: ${missing.join(', ')}` : ''),
    found.map((c, i) => recordCard(c, read.items[c], histories[i])),
  );
}

function statsList(stats) {
  const counts = (m) => Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none';
  const rows = [
    ['Records written', String(stats.records_written)],
    ['Records current', String(stats.records_current)],
    ['First write', time(stats.first_write_at)],
    ['Last write', time(stats.last_write_at)],
    ['Categories', counts(stats.categories ?? {})],
    ['Entity types', counts(stats.entity_types ?? {})],
  ];
  return h('dl', { class: 'stats' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function recordRow(r) {
  return h(
    'tr',
    {},
    h('td', {}, r.entity_type),
    h('td', {}, navLink(entityHref(r.entity_type, r.entity_value), h('code', {}, r.entity_value))),
    h('td', {}, r.category),
    h('td', {}, time(r.updated_at)),
  );
}

/** The job's statistics, or why they are unavailable (404: no statistics for this id). */
async function statsSection(computeId) {
  try {
    return statsList(await api(`/api/v1/compute-jobs/${enc(computeId)}`));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    return h('p', { class: 'unavailable', id: 'stats-unavailable' }, `Job statistics unavailable: ${err.message}`);
  }
}

/** A compute job: its statistics and, page by page, the records that still carry its id. */
export async function jobView(computeId) {
  const url = (cursor) =>
    `/api/v1/features/by-compute-id/${enc(computeId)}?limit=${PAGE}${cursor === null ? '' : `&cursor=${enc(cursor)}`}`;
  const [stats, first] = await Promise.all([statsSection(computeId), api(url(null))]);
  const body = h('tbody', {}, first.records.map(recordRow));
  const more = h('button', { type: 'button', class: 'more' }, 'More records');
  let next = first.next_cursor;
  more.hidden = next === null;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api(url(next));
      body.append(...page.records.map(recordRow));
      next = page.next_cursor;
      more.hidden = next === null;
    } catch (err) {
      more.after(h('p', { class: 'unavailable' }, `Could not load more: ${err instanceof Error ? err.message : String(err)}`));
    } finally {
      more.disabled = false;
    }
  });
  const records =
    first.records.length === 0
      ? h('p', { class: 'empty' }, 'No record carries this compute_id now (a later write replaces it).')
      : h(
          'table',
          { class: 'records' },
          h('thead', {}, h('tr', {}, ['Entity type', 'Entity value', 'Category', 'Updated at'].map((t) => h('th', { scope: 'col' }, t)))),
          body,
        );
  return h(
    'article',
    { class: 'job' },
    h('h2', {}, 'Compute job ', h('code', { id: 'job-title' }, computeId)),
    h('section', { class: 'card', 'aria-label': 'Statistics' }, h('h3', {}, 'Statistics'), stats),
    h('section', { class: 'card', 'aria-label': 'Records' }, h('h3', {}, 'Records carrying this compute_id'), records, more),
  );
}
