# SpikeLab: one image for the API server and the distributed workers (choose by command).
#   docker build -t spikelab .
#   docker run -p 8080:8080 spikelab                          # API (embedded store and runner)
#   docker run spikelab node dist/workers/worker.js           # worker (needs REDIS_URL, DATABASE_URL)
# docker-compose.yml runs Redis, PostgreSQL, the API and two workers (docs/distributed.md).

# ---- build: all dependencies, compile TypeScript and the dashboard ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json openapi.yaml ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
COPY bin ./bin
COPY dashboard ./dashboard
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

# ---- runtime: production dependencies and compiled output only, as a non-root user ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/dashboard/dist ./dashboard/dist
COPY --from=build /app/openapi.yaml ./openapi.yaml
RUN mkdir -p /data && chown node:node /data
# The `node` user (uid 1000) of the official image.
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# API by default; workers run `node dist/workers/worker.js` (docker-compose.yml).
CMD ["node", "dist/src/server.js"]
