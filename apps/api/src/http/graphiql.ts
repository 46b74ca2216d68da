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

/** Serves /graphiql/<package>/<file> from the packages above (immutable per installed version). */
export function graphiqlAssets(): Router {
  const router = Router();
  for (const [name, dir] of Object.entries(graphiqlAssetDirs())) {
    router.use(`/graphiql/${name}`, express.static(dir, { index: false, fallthrough: false, maxAge: '1h' }));
  }
  return router;
}

export interface ExampleIds {
  movieId: number;
  userId: number;
}

/**
 * The example tabs GraphiQL opens with: similar movies, a prediction, a retrain with its progress.
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
      query: `# Retrain needs the API token: put it in the Authorization header below (when
# RECSYS_API_TOKEN is unset, the server generates one and prints it in its log at start).
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
  activeModel { id kind trainedAt }
}
`,
      headers: JSON.stringify({ Authorization: 'Bearer <RECSYS_API_TOKEN>' }, null, 2),
    },
  ];
}

/** The GraphiQL page: React 18 and GraphiQL 4 UMD bundles, queries over HTTP, subscriptions over graphql-ws. */
export function graphiqlPage(ids: ExampleIds): string {
  const tabs = JSON.stringify(exampleTabs(ids)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recsys · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react/react.production.min.js"></script>
<script src="/graphiql/react-dom/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql/graphiql.min.js"></script>
<script>
  const url = new URL('/graphql', location.href).href;
  const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl: url.replace(/^http/, 'ws') });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultTabs: ${tabs}, defaultEditorToolsVisibility: true }),
  );
</script>
</body>
</html>
`;
}
