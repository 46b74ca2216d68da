import { errorText } from './api';
import { errorBox, h, replace } from './dom';
import { dataView } from './views/data';
import { modelsView } from './views/models';
import { movieView, searchView } from './views/movie';
import { trainingView } from './views/training';
import { userView } from './views/user';
import type { ViewContext } from './views/view';

/** Hash routes: #/data, #/models, #/training, #/movie/ID, #/user/ID, #/search/TEXT. */
const ROUTES: Record<string, (ctx: ViewContext) => Promise<void>> = {
  data: dataView,
  models: modelsView,
  training: trainingView,
  movie: movieView,
  user: userView,
  search: searchView,
};

/** A route no view answers: says so, and which routes there are. */
function unknownView(name: string): (ctx: ViewContext) => Promise<void> {
  return async ({ main }) => {
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    replace(
      main,
      h('h1', {}, 'No such view'),
      errorBox(`no view "${shown}" in the address ${location.hash.length > 60 ? `${location.hash.slice(0, 60)}…` : location.hash}`),
      h('p', {}, 'The views: ', [h('a', { href: '#/data' }, 'Data'), ', ', h('a', { href: '#/models' }, 'Models'), ', ', h('a', { href: '#/training' }, 'Training'), ', #/movie/ID, #/user/ID and #/search/TEXT.']),
    );
  };
}

/** Whether a location hash is a route (`#/…`) rather than an in-page anchor. */
function isRoute(hash: string): boolean {
  return hash.startsWith('#/');
}

let generation = 0;
let cleanups: Array<() => void> = [];

async function route(): Promise<void> {
  const main = document.getElementById('main')!;
  // A hash that is no route (none, `#`, an in-page anchor such as `#main`): the data view.
  const [, given = '', ...rest] = (isRoute(location.hash) ? location.hash : '#/').split('/');
  const name = given === '' && rest.length === 0 ? 'data' : given;
  const view = Object.hasOwn(ROUTES, name) ? ROUTES[name] : unknownView(name);
  const mine = ++generation;
  for (const c of cleanups) c();
  cleanups = [];
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${name}`);
  main.dataset.view = name;
  main.dataset.ready = 'false';
  main.setAttribute('aria-busy', 'true');
  const started = performance.now();
  try {
    await view({ main, arg: rest.join('/'), stale: () => mine !== generation, onLeave: (c) => cleanups.push(c) });
  } catch (error) {
    if (mine === generation) replace(main, errorBox(errorText(error)));
  }
  if (mine !== generation) return;
  // For the browser tests and the screenshots: which view is drawn, and when (ms since the route
  // opened, and since the page's navigation started).
  main.dataset.ready = 'true';
  main.dataset.ms = String(Math.round(performance.now() - started));
  main.dataset.sinceNavigation = String(Math.round(performance.now()));
  main.removeAttribute('aria-busy');
  document.title = `recsys · ${main.querySelector('h1')?.textContent ?? name}`;
}

function start(): void {
  document.getElementById('movie-search')!.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = (document.getElementById('movie-search-input') as HTMLInputElement).value.trim();
    location.hash = /^\d+$/.test(text) ? `#/movie/${text}` : `#/search/${encodeURIComponent(text)}`;
  });
  document.getElementById('user-lookup')!.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/user/${(document.getElementById('user-lookup-input') as HTMLInputElement).value.trim()}`;
  });
  // The skip link moves the focus to the view without leaving its route (its href #main would
  // replace the route in the address, and a reload would then open the data view).
  document.querySelector('.skip-link')?.addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main')!.focus();
  });
  // In-page anchors (`#main`, typed or followed) leave the view drawn.
  window.addEventListener('hashchange', () => {
    if (isRoute(location.hash) || location.hash === '') void route();
  });
  void route();
}

start();
