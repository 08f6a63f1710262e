# The ckg API, pointed at Neo4j by docker-compose.yml (CKG_NEO4J_URI).

# /explore's drawing library, installed from npm as `make setup` does
FROM node:20-slim AS explore
WORKDIR /explore
COPY api/explore/package.json api/explore/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY --from=explore /explore/node_modules/cytoscape/dist/cytoscape.min.js \
     /explore/node_modules/cytoscape/LICENSE ./api/static/explore/
COPY cypher ./cypher
COPY embeddings ./embeddings
COPY ingest ./ingest
COPY privacy ./privacy
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 ckg
USER ckg

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["ckg", "serve", "--host", "0.0.0.0", "--port", "8000"]
