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

/**
 * The page's own script: it reads the example tabs from the page's JSON data block and starts
 * GraphiQL over HTTP with subscriptions over graphql-ws. A file of this server (not inline), so
 * the page's Content-Security-Policy allows scripts from 'self' only.
 */
const START_SCRIPT = `'use strict';
(function () {
  var tabs = JSON.parse(document.getElementById('graphiql-tabs').textContent);
  var url = new URL('/graphql', location.href).href;
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: url.replace(/^http/, 'ws') });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultTabs: tabs, defaultEditorToolsVisibility: true }),
  );
})();
`;

const PAGE_CSS = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

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
 * The example tabs GraphiQL opens with: similar movies, a prediction, a user's list by the ranking
 * model with an interaction that changes it, a retrain with its progress.
 * The ids are written into the queries (GraphiQL 4.1.2 drops `variables` of default tabs).
 */
export function exampleTabs(ids: ExampleIds): Array<{ query: string; headers?: string }> {
  return [
    {
      query: `# Movies most similar to movie ${ids.movieId}, the most-rated one (Jaccard over common raters).
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
      query: `# A predicted rating with the rated movies that weighed most.
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
      query: `# The user's list by the active ranking model, and movies like the first by that model.
# Interact (needs the API token in the Authorization header below) changes the list at once.
query Recommendations {
  activeModels { rating { id kind } ranking { id kind } }
  user(id: ${ids.userId}) {
    recommendations(n: 10) { rank score movie { id title } }
  }
  similarMovies(movieId: ${ids.movieId}, n: 5, metric: MODEL) { similarity support movie { id title } }
}

mutation Interact {
  interact(userId: ${ids.userId}, movieId: ${ids.movieId}, weight: 1) { userId movieId weight at }
}
`,
      headers: JSON.stringify({ Authorization: 'Bearer <RECSYS_API_TOKEN>' }, null, 2),
    },
    {
      query: `# Retrain needs the API token: put it in the Authorization header below (when
# RECSYS_API_TOKEN is unset, the server generates one at start and writes it to the file
# <cache>/api-token, readable by its owner only; the log names the file).
# Run Retrain, then Progress (a subscription: every epoch with its RMSE) or poll RunStatus.
mutation Retrain {
  retrain(input: { parameters: { epochs: 30 } }) { id status kind totalEpochs }
}

subscription Progress {
  trainingRunUpdated { id status epoch totalEpochs epochs { epoch trainRmse } error modelId }
}

query RunStatus {
  trainingRuns(first: 1) {
    edges { node { id status epoch totalEpochs error model { id trainedAt metrics { trainRmse } } } }
  }
  activeModels { rating { id kind trainedAt } ranking { id kind trainedAt } }
}
`,
      headers: JSON.stringify({ Authorization: 'Bearer <RECSYS_API_TOKEN>' }, null, 2),
    },
  ];
}

/**
 * The GraphiQL page: React 18 and GraphiQL 4 UMD bundles, queries over HTTP, subscriptions over
 * graphql-ws. Every script is a file of this server (no inline script: see graphiqlHeaders); the
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
