/** Small DOM helpers: the page needs no UI framework. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element with attributes (`on*` functions become listeners; false/null are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A table: one header row, then the rows. */
export function table(columns: string[], rows: Array<Array<Child>>, caption?: string): HTMLTableElement {
  return h(
    'table',
    {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))),
  );
}

const numberFormat = new Intl.NumberFormat('en');

/** A number for people: thousands separated; `digits` decimals when given. */
export function fmt(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return digits === undefined ? numberFormat.format(value) : value.toFixed(digits);
}

/** A movie's name as shown: title and year. */
export function movieName(movie: { title: string; year?: number | null }): string {
  return movie.year ? `${movie.title} (${movie.year})` : movie.title;
}

/** An error box (role=alert, so screen readers announce it). */
export function errorBox(message: string): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, message);
}

/** Largest id the API takes (GraphQL's Int is a 32-bit signed integer). */
export const MAX_ID = 2 ** 31 - 1;

/**
 * The id of a route such as `#/movie/ID`, checked before any request: digits only, in
 * 0..2147483647 (the API's own bound), so that `#/movie/` is not movie 0, `1e3` or `0x10` are not
 * ids, and an id past GraphQL's Int is not sent (the server would refuse the request itself).
 */
export function routeId(what: string, text: string): number {
  if (text === '') throw new Error(`no ${what} id in the address: open #/${what}/ID with an integer in 0..${MAX_ID}`);
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(id <= MAX_ID)) throw new Error(`${what} id must be an integer in 0..${MAX_ID}, got "${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`);
  return id;
}

/** A route's text argument as typed (`#/search/TEXT` holds it percent-encoded). */
export function routeText(what: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`the ${what} in the address is not valid percent-encoding (a % not followed by two hex digits of UTF-8): "${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`);
  }
}
