import { errorText } from './api';
import { errorBox, replace } from './dom';
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

let generation = 0;
let cleanups: Array<() => void> = [];

async function route(): Promise<void> {
  const main = document.getElementById('main')!;
  const [, name = 'data', ...rest] = location.hash.split('/');
  const view = ROUTES[name] ?? dataView;
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
  window.addEventListener('hashchange', () => void route());
  void route();
}

start();
