/**
 * Builds an element. Children are nodes or strings; a string is always text (a Text node), so
 * stored feature names and values, which are untrusted, never reach an HTML parser.
 * @param {string} tag
 * @param {Record<string, unknown>} [props] attributes, `class`, or `on<event>` listeners
 * @param {...unknown} children nodes, strings, or (nested) arrays of them; null, undefined and false are skipped
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Where the page shows one entity: a same-page link the router follows without reloading. */
export function entityHref(entityType, entityValue) {
  return `/ui/?${new URLSearchParams({ entity_type: entityType, entity_value: entityValue })}`;
}

/** Where the page shows one compute job. */
export function jobHref(computeId) {
  return `/ui/?${new URLSearchParams({ compute_id: computeId })}`;
}

/** A link inside the page (`data-nav`: the router handles it with history.pushState). */
export function navLink(href, ...children) {
  return h('a', { href, 'data-nav': true }, ...children);
}

/** A timestamp as the API gave it, in a <time> element. */
export function time(iso) {
  return h('time', { datetime: iso }, iso);
}
