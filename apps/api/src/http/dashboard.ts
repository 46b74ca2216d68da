import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Router } from 'express';
import { graphiqlHeaders } from './graphiql';

/**
 * Where the dashboard's files are: the `@recsys/dashboard` package (apps/dashboard), whose
 * `dist/web/dashboard.js` tools/build-web.js bundles and whose `src/dashboard.css` is the page's
 * stylesheet. Null when the package cannot be resolved.
 */
export function dashboardDir(): string | null {
  try {
    // Only the package's files are served: no code of the browser app runs in Node.
    // eslint-disable-next-line @nx/enforce-module-boundaries
    return dirname(require.resolve('@recsys/dashboard/package.json'));
  } catch {
    return null;
  }
}

const FILES: Record<string, { path: string; type: string }> = {
  'dashboard.js': { path: join('dist', 'web', 'dashboard.js'), type: 'application/javascript' },
  'dashboard.css': { path: join('src', 'dashboard.css'), type: 'text/css' },
};

/**
 * The page: a skip link, the nav bar and an empty main that the bundle fills. No inline script,
 * so GraphiQL's Content-Security-Policy serves it too (scripts from 'self' only; styles may be
 * inline because Observable Plot puts a <style> element in each chart's SVG).
 */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>recsys · dashboard</title>
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script src="/dashboard/dashboard.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header>
<nav aria-label="Views">
<span class="brand">recsys</span>
<a href="#/data">Data</a>
<a href="#/models">Models</a>
<a href="#/training">Training</a>
<form id="movie-search" role="search"><label for="movie-search-input">Movie</label> <input id="movie-search-input" name="q" type="search" placeholder="title or id" autocomplete="off" required> <button type="submit">Find</button></form>
<form id="user-lookup"><label for="user-lookup-input">User</label> <input id="user-lookup-input" name="id" type="number" min="0" step="1" placeholder="id" required> <button type="submit">Open</button></form>
<a href="/graphql">GraphiQL</a>
</nav>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
</body>
</html>
`;
}

/**
 * GET /dashboard (the page), /dashboard/dashboard.js (the esbuild bundle) and
 * /dashboard/dashboard.css, from the @recsys/dashboard package: nothing from outside the
 * machine. A missing bundle is a 500 saying how to build it.
 */
export function dashboardRoutes(dir: string | null = dashboardDir()): Router {
  const router = Router();
  const missing = (res: import('express').Response, file: string) =>
    res.status(500).type('text/plain').send(`dashboard bundle missing: run npm run build (${file} of @recsys/dashboard not found)`);
  router.get('/dashboard', (req, res) => {
    const bundle = dir && join(dir, FILES['dashboard.js'].path);
    if (!bundle || !existsSync(bundle)) {
      missing(res, FILES['dashboard.js'].path);
      return;
    }
    res.type('html').set(graphiqlHeaders(req.headers.host)).set('Cache-Control', 'no-cache').send(dashboardPage());
  });
  for (const [name, file] of Object.entries(FILES)) {
    router.get(`/dashboard/${name}`, (_req, res) => {
      const path = dir && join(dir, file.path);
      if (!path || !existsSync(path)) {
        missing(res, file.path);
        return;
      }
      res.type(file.type).set('Cache-Control', 'no-cache').set('X-Content-Type-Options', 'nosniff').sendFile(path);
    });
  }
  return router;
}
