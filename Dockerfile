# Ballast image: the CLI, worker and gate. Infrastructure (Postgres, Temporal) comes from compose.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/ballast.js"]
CMD ["--help"]
