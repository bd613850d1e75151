import { api, apiKey, ApiError } from './api.js';
import { entityHref, h, jobHref } from './dom.js';
import { entityView, jobView } from './views.js';

/**
 * The page's router: the URL is the state. `?entity_type=…&entity_value=…` shows an entity,
 * `?compute_id=…` a compute job; forms and links push a new URL and render it, back and forward
 * render the URL they land on.
 */
const $ = (id) => document.getElementById(id);
let config = null;
let renders = 0;

async function loadConfig() {
  if (config === null) {
    config = await api('/ui/config.json');
    const select = $('entity-type');
    const chosen = select.value;
    select.replaceChildren(...config.entity_types.map((t) => h('option', { value: t }, t)));
    select.value = chosen !== '' && config.entity_types.includes(chosen) ? chosen : config.entity_types.includes(config.default_entity_type) ? config.default_entity_type : config.entity_types[0];
  }
  return config;
}

function showKeyState() {
  $('key-state').textContent = apiKey.get() === '' ? 'no key set' : 'key set for this session';
}

/** An error, readably; a 401/403 also asks for a (different) key. */
function showError(err) {
  const box = $('message');
  if (!(err instanceof ApiError)) {
    box.textContent = `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  const lines = [err.status === 0 ? err.message : `${err.status}${err.code === '' ? '' : ` ${err.code}`}: ${err.message}`];
  if (err.status === 401) lines.push(apiKey.get() === '' ? 'This service needs an API key: enter it above.' : 'The API key was not accepted: enter a valid one above.');
  if (err.status === 403) lines.push('The API key may not do this: enter a key with the read scope for these categories above.');
  if (err.status === 503) lines.push(`The service or its store is unavailable right now${err.retryAfter ? `; retry in ${err.retryAfter} s` : ''}.`);
  box.replaceChildren(...lines.map((l) => h('p', {}, l)));
  if (err.status === 401 || err.status === 403) {
    $('key-form').classList.add('needs-key');
    $('api-key').focus();
  }
}

async function render() {
  const mine = ++renders;
  const q = new URLSearchParams(location.search);
  const view = $('view');
  $('message').replaceChildren();
  view.replaceChildren(h('p', { class: 'empty' }, 'Loading…'));
  view.setAttribute('aria-busy', 'true');
  try {
    const cfg = await loadConfig();
    let content;
    if (q.has('compute_id')) {
      const id = q.get('compute_id');
      $('compute-id').value = id;
      document.title = `${id} · Feature store`;
      content = await jobView(id);
    } else if (q.has('entity_value')) {
      const type = q.get('entity_type') ?? cfg.default_entity_type;
      const value = q.get('entity_value');
      if (cfg.entity_types.includes(type)) $('entity-type').value = type;
      $('entity-value').value = value;
      document.title = `${type} ${value} · Feature store`;
      content = await entityView(cfg, type, value);
    } else {
      document.title = 'Feature store';
      content = h('p', { class: 'empty' }, 'Look up an entity to see its categories, or a compute job to see what it wrote.');
    }
    if (mine === renders) view.replaceChildren(content);
  } catch (err) {
    if (mine !== renders) return;
    view.replaceChildren();
    showError(err);
  } finally {
    if (mine === renders) view.removeAttribute('aria-busy');
  }
}

function go(href) {
  history.pushState(null, '', href);
  void render();
}

$('entity-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(entityHref($('entity-type').value, $('entity-value').value));
});
$('job-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(jobHref($('compute-id').value));
});
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  apiKey.set($('api-key').value.trim());
  $('api-key').value = '';
  $('key-form').classList.remove('needs-key');
  config = null;
  showKeyState();
  void render();
});
$('forget-key').addEventListener('click', () => {
  apiKey.set('');
  config = null;
  showKeyState();
  void render();
});
// Links inside the page (data-nav) stay in it; a modified click still opens a new tab.
document.addEventListener('click', (e) => {
  const link = e.target instanceof Element ? e.target.closest('a[data-nav]') : null;
  if (link === null || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  go(link.getAttribute('href'));
});
window.addEventListener('popstate', () => void render());

showKeyState();
void render();
