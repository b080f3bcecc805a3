import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type RequestHandler, type Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { stringify } from 'yaml';
import { DomainError } from '../shared/errors';
import { pageCsp } from './security-headers';

/** Where `npm run build:docs` writes the self-contained Redoc page. */
export const REDOC_PAGE = join(__dirname, '..', '..', __dirname.includes(join('dist', 'src')) ? '' : 'dist', 'docs', 'redoc.html');

/**
 * The documentation routes: the contract as JSON and YAML, Swagger UI at /swagger/ and Redoc at
 * /redoc/. They are not API operations, so they sit outside the contract and its validator.
 */
export function docsRouter(spec: object, publicUrl?: string): Router {
  const router = express.Router();
  // The documents and Swagger UI's page are built on their first request (a few MB that most
  // processes never serve), then kept.
  let json: string | undefined;
  let yaml: string | undefined;
  let swaggerPage: RequestHandler | undefined;
  // The pages run scripts and styles of their own; the API routes keep helmet's strict defaults.
  // Over plain http (a LAN address, a VM, nginx on port 80) without `upgrade-insecure-requests`.
  const docsCsp = pageCsp(
    {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'", 'https:'],
      imgSrc: ["'self'", 'data:', 'https:'],
      fontSrc: ["'self'", 'data:', 'https:'],
      workerSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'"],
    },
    publicUrl,
  );

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send((json ??= JSON.stringify(spec)));
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send((yaml ??= stringify(spec)));
  });
  router.use(
    '/swagger',
    docsCsp,
    swaggerUi.serve,
    ((req, res, next) =>
      (swaggerPage ??= swaggerUi.setup(spec, {
        customSiteTitle: 'E-commerce Backend API: Swagger UI',
        swaggerOptions: { persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: false },
      }))(req, res, next)) as RequestHandler,
  );
  let redoc: string | undefined;
  router.get(['/redoc', '/redoc/'], docsCsp, (req, res) => {
    if (req.path === '/redoc') return res.redirect(301, '/redoc/');
    if (redoc === undefined) {
      if (!existsSync(REDOC_PAGE)) {
        throw new DomainError('unavailable', 'DOCS_NOT_BUILT', 'The Redoc page has not been built; run `npm run build:docs`.');
      }
      redoc = readFileSync(REDOC_PAGE, 'utf8');
    }
    res.type('html').send(redoc);
  });
  return router;
}
