import { dirname, join } from 'node:path';
import express, { Router } from 'express';

/** Where the browser bundles come from: the project's own node_modules (no CDN). */
export function graphiqlAssetDirs(): Record<string, string> {
  return {
    react: join(dirname(require.resolve('react/package.json')), 'umd'),
    'react-dom': join(dirname(require.resolve('react-dom/package.json')), 'umd'),
    graphiql: dirname(require.resolve('graphiql/package.json')),
  };
}

/** The sessionStorage key of the API token typed in the bar above GraphiQL. */
export const TOKEN_STORAGE_KEY = 'recsys.apiToken';

/**
 * The page's own script: it reads the example tabs from the page's JSON data block and starts
 * GraphiQL over HTTP with subscriptions over graphql-ws. The bar's "API token" input is kept in
 * sessionStorage (this tab's session only, never sent anywhere else), and the fetcher adds
 * `Authorization: Bearer <token>` to a request when the input is filled and the tab's own headers
 * set no Authorization. A file of this server (not inline), so the page's
 * Content-Security-Policy allows scripts from 'self' only.
 */
const START_SCRIPT = `'use strict';
(function () {
  var KEY = ${JSON.stringify(TOKEN_STORAGE_KEY)};
  var input = document.getElementById('recsys-token');
  try { input.value = sessionStorage.getItem(KEY) || ''; } catch (e) { /* storage off: the input still works */ }
  input.addEventListener('input', function () {
    try {
      if (input.value) sessionStorage.setItem(KEY, input.value);
      else sessionStorage.removeItem(KEY);
    } catch (e) { /* storage off */ }
  });
  function withToken(url, init) {
    init = init || {};
    var headers = {};
    var given = init.headers || {};
    if (typeof Headers !== 'undefined' && given instanceof Headers) given.forEach(function (v, k) { headers[k] = v; });
    else Object.keys(given).forEach(function (k) { headers[k] = given[k]; });
    var token = input.value.trim();
    var has = Object.keys(headers).some(function (k) { return k.toLowerCase() === 'authorization'; });
    if (token && !has) headers.Authorization = 'Bearer ' + token;
    return window.fetch(url, Object.assign({}, init, { headers: headers }));
  }
  var tabs = JSON.parse(document.getElementById('graphiql-tabs').textContent);
  var url = new URL('/graphql', location.href).href;
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: url.replace(/^http/, 'ws'), fetch: withToken });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultTabs: tabs, defaultEditorToolsVisibility: 'headers' }),
  );
})();
`;

/** The page: a slim bar (link to /dashboard, the token input) above GraphiQL, which fills the rest. */
const PAGE_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
#recsys-bar { display: flex; align-items: center; gap: 1em; padding: 4px 12px; font-size: 14px; border-bottom: 1px solid #d0d0d0; background: #f6f7f9; color: #1b1f24; }
#recsys-bar a { color: #0b57d0; font-weight: 600; }
#recsys-bar a:focus-visible, #recsys-bar input:focus-visible { outline: 2px solid #0b57d0; outline-offset: 2px; }
#recsys-bar .grow { flex: 1; }
#recsys-bar input { font: inherit; width: 22em; padding: 2px 6px; }
#graphiql { flex: 1; min-height: 0; }
`;

/**
 * Serves /graphiql/<package>/<file> from the packages above (immutable per installed version),
 * and the page's own /graphiql/start.js and /graphiql/page.css.
 */
export function graphiqlAssets(): Router {
  const router = Router();
  router.get('/graphiql/start.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(START_SCRIPT);
  });
  router.get('/graphiql/page.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'no-cache').send(PAGE_CSS);
  });
  for (const [name, dir] of Object.entries(graphiqlAssetDirs())) {
    router.use(`/graphiql/${name}`, express.static(dir, { index: false, fallthrough: false, maxAge: '1h' }));
  }
  return router;
}

/**
 * Headers of the GraphiQL page: a Content-Security-Policy that loads scripts, styles, fonts and
 * images from this server only (styles may also be inline: GraphiQL's dialogs inject some; fonts
 * and icons of its CSS are data: URIs), connects to this server over HTTP and WebSocket only,
 * and lets no other page frame it (`frame-ancestors 'none'`, and X-Frame-Options for older
 * browsers). `host` is the request's Host header: the WebSocket origin of the subscriptions.
 */
export function graphiqlHeaders(host: string | undefined): Record<string, string> {
  // Only a plain host[:port] goes into the header; anything else leaves connect-src at 'self'.
  const ws = host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? ` ws://${host} wss://${host}` : '';
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

export interface ExampleIds {
  movieId: number;
  userId: number;
}

/**
 * The longest comment line of an example tab: GraphiQL's editor shows about 51 characters beside
 * the Run button in a 1280-pixel-wide window (the editor takes half of it), more in wider ones.
 */
export const MAX_COMMENT_LINE = 50;

/**
 * The example tabs GraphiQL opens with: similar movies (naming /dashboard), a prediction, a
 * user's list by the ranking model with an interaction that changes it, a retrain, and its
 * progress (a subscription, in a tab of its own: GraphiQL runs one operation at a time).
 * Mutations take the API token from the bar above the editor; no tab sets an Authorization header.
 * The ids are written into the queries (GraphiQL 4.1.2 drops `variables` of default tabs).
 */
export function exampleTabs(ids: ExampleIds): Array<{ query: string; headers?: string }> {
  return [
    {
      query: `# Pictures of all this: /dashboard (link above).
# The movies most similar to the most-rated one,
# movie ${ids.movieId} (Jaccard over common raters).
query SimilarMovies {
  movie(id: ${ids.movieId}) { id title year ratingCount }
  similarMovies(movieId: ${ids.movieId}, n: 10, metric: JACCARD) {
    similarity
    support
    movie { id title year }
  }
}
`,
    },
    {
      query: `# A predicted rating with the rated movies that
# weighed most.
query Prediction {
  prediction(userId: ${ids.userId}, movieId: ${ids.movieId}) {
    rating
    baseline
    isFallback
    fallbackReason
    model { id kind }
    movie { title }
    explanation(n: 5) { contribution rating movie { id title } }
  }
}
`,
    },
    {
      query: `# The user's list by the active ranking model, and
# movies like the first by that model.
# Interact changes the list at once. It needs the
# API token: type it in the bar above (or set an
# Authorization header in Headers below).
query Recommendations {
  activeModels { rating { id kind } ranking { id kind } }
  user(id: ${ids.userId}) {
    recommendations(n: 10) {
      rank score movie { id title }
      explanation(n: 3) { contribution movie { title } }
    }
  }
  similarMovies(movieId: ${ids.movieId}, n: 5, metric: MODEL) { similarity support movie { id title } }
}

mutation Interact {
  interact(userId: ${ids.userId}, movieId: ${ids.movieId}, weight: 1) { userId movieId weight at }
}
`,
    },
    {
      query: `# Retrain needs the API token: type it in the bar
# above (kept for this browser tab only), or set
# an Authorization header in Headers below. When
# RECSYS_API_TOKEN is unset, the server makes one
# at start and writes it to <cache>/api-token,
# readable by its owner only (the log names it).
# Watch the run in the Progress tab (in another
# window), or run RunStatus here.
mutation Retrain {
  retrain(input: { parameters: { epochs: 30 } }) { id status kind totalEpochs }
}

query RunStatus {
  trainingRuns(first: 1) {
    edges { node { id status epoch totalEpochs error heldOutRmse heldOutMae model { id } } }
  }
  activeModels { rating { id kind trainedAt } ranking { id kind trainedAt } }
}
`,
    },
    {
      query: `# Every status change and finished epoch of
# training runs, as they happen.
# GraphiQL runs one operation at a time: Run in
# any tab stops this subscription. So keep it
# running here and start the retrain from another
# window (the Retrain tab) or from /dashboard →
# Training.
subscription Progress {
  trainingRunUpdated { id status epoch totalEpochs epochs { epoch trainRmse validationRmse } error modelId }
}
`,
    },
  ];
}

/**
 * The GraphiQL page: a bar with a link to /dashboard and the API token input, then React 18 and
 * GraphiQL 4 UMD bundles, queries over HTTP, subscriptions over graphql-ws. Every script is a file of this server (no inline script: see graphiqlHeaders); the
 * example tabs travel in a JSON data block, which no browser executes.
 */
export function graphiqlPage(ids: ExampleIds): string {
  const tabs = JSON.stringify(exampleTabs(ids)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recsys · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql/graphiql.min.css">
<link rel="stylesheet" href="/graphiql/page.css">
</head>
<body>
<header id="recsys-bar">
<a href="/dashboard">Dashboard</a>
<span class="grow">recsys GraphQL API</span>
<label>API token <input id="recsys-token" type="password" autocomplete="off" spellcheck="false" placeholder="for retrain, rateMovie and interact"></label>
</header>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="graphiql-tabs">${tabs}</script>
<script src="/graphiql/react/react.production.min.js"></script>
<script src="/graphiql/react-dom/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql/graphiql.min.js"></script>
<script src="/graphiql/start.js"></script>
</body>
</html>
`;
}
