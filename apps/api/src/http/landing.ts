/**
 * What `GET /` serves: a short page linking the dashboard (/dashboard), GraphiQL (/graphql in a
 * browser) and the probes. No script; served with the GraphiQL page's headers (graphiqlHeaders).
 */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recsys API</title>
<link rel="stylesheet" href="/graphiql/page.css">
</head>
<body>
<main style="max-width: 40em; margin: 2em auto; padding: 0 1em; line-height: 1.5">
<h1>recsys API</h1>
<ul>
<li><a href="/dashboard">Dashboard</a>: the data, the models, training, movies and users as pictures.</li>
<li><a href="/graphql">GraphiQL</a>: the GraphQL API at <code>/graphql</code>, with examples.</li>
<li><a href="/readyz">/readyz</a>, <a href="/healthz">/healthz</a>, <a href="/metrics">/metrics</a>: readiness, liveness, memory and event-loop figures (JSON).</li>
</ul>
</main>
</body>
</html>
`;
}
