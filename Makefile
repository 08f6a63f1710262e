# Everything a fresh machine needs is set up here: the venv from pinned requirements, the node
# tools for the Cypher linter, and (at first use) the embedded store's data directory.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
LINT   := tests/tools/cypher-lint
# /explore's drawing library: installed from npm (api/explore/package-lock.json) and copied into
# the package's static files, which git ignores
EXPLORE := api/explore
EXPLORE_STATIC := api/static/explore
PYTEST_ARGS ?=

.PHONY: all setup test test-neo4j lint typecheck unit demo store-start store-stop clean docs-assets \
	rasa-venv graphql-schema

all: test

$(BIN)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(LINT)/node_modules/.installed: $(LINT)/package.json $(LINT)/package-lock.json
	npm ci --prefix $(LINT) --no-audit --no-fund --loglevel=error
	@touch $@

$(EXPLORE)/node_modules/.installed: $(EXPLORE)/package.json $(EXPLORE)/package-lock.json
	npm ci --prefix $(EXPLORE) --no-audit --no-fund --loglevel=error
	@touch $@

$(EXPLORE_STATIC)/cytoscape.min.js: $(EXPLORE)/node_modules/.installed
	mkdir -p $(EXPLORE_STATIC)
	cp $(EXPLORE)/node_modules/cytoscape/dist/cytoscape.min.js \
		$(EXPLORE)/node_modules/cytoscape/LICENSE $(EXPLORE_STATIC)/

# The Rasa example's action server has a venv of its own: rasa-sdk pins an older pydantic than
# the API's (examples/rasa/requirements.lock); tests/integration/test_rasa_action.py runs it.
RASA := examples/rasa
RASA_BIN := $(RASA)/.venv/bin

$(RASA_BIN)/.installed: $(RASA)/requirements.lock
	@test -x $(RASA_BIN)/python || $(PYTHON) -m venv $(RASA)/.venv
	$(RASA_BIN)/python -m pip install --quiet --disable-pip-version-check -r $(RASA)/requirements.lock
	@touch $@

rasa-venv: $(RASA_BIN)/.installed

setup: $(BIN)/.installed $(LINT)/node_modules/.installed $(EXPLORE_STATIC)/cytoscape.min.js rasa-venv

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

# every store-touching integration test on Neo4j alone: the server in CKG_TEST_NEO4J_URI
# (_USER, _PASSWORD), else a testcontainers neo4j:5.26-community; fails when neither answers
test-neo4j: setup
	CKG_TEST_REQUIRE_NEO4J=1 $(BIN)/pytest -m neo4j tests/integration $(PYTEST_ARGS)

# the GraphQL contract: the SDL of api/graphql/schema.py (tests/unit/test_graphql_schema.py)
graphql-schema: $(BIN)/.installed
	$(BIN)/python -m api.graphql

store-start: $(BIN)/.installed
	$(BIN)/ckg store start

store-stop: $(BIN)/.installed
	$(BIN)/ckg store stop

# Exit code 4 from `ckg ingest` means "partial": the real data holds rows that are not customer
# events (postage, stock adjustments); they go to the dead-letter with their reason.
demo: $(BIN)/.installed
	$(BIN)/ckg store start
	$(BIN)/ckg ingest ingest/samples/online-retail-sample.csv.gz --format online-retail || test $$? -eq 4
	$(BIN)/ckg ingest ingest/samples/eshop-clickstream-sample.csv.gz --format eshop-clickstream || test $$? -eq 4
	$(BIN)/ckg embed
	$(BIN)/ckg segment
	$(BIN)/ckg store status
	@echo "A demo API key with every scope (shown once; its hash is in .ckg/api-keys.json):"
	@$(BIN)/ckg keys create --name demo --scope chatbot:read --scope analyst:read --scope ingest:write --scope privacy:admin
	@echo "API on http://127.0.0.1:8000/docs (Ctrl-C stops it; 'make store-stop' stops the store)"
	@echo "Try: curl -H 'Authorization: Bearer <key>' 'http://127.0.0.1:8000/v1/sessions/retail:536365/context?format=text'"
	$(BIN)/ckg serve --host 127.0.0.1 --port 8000

# The API docs' viewers (/docs, /redoc) are served from api/static/, never from a CDN: this
# refreshes them from npm at the versions named here, with their licence files.
SWAGGER_UI_VERSION := 5.35.0
REDOC_VERSION      := 2.5.4
STATIC             := api/static

docs-assets:
	rm -rf $(STATIC)/.pack && mkdir -p $(STATIC)/.pack
	cd $(STATIC)/.pack && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) redoc@$(REDOC_VERSION)
	tar -xzf $(STATIC)/.pack/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz -C $(STATIC)/.pack
	cd $(STATIC)/.pack/package && cp swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt \
		swagger-ui.css favicon-32x32.png LICENSE NOTICE ../../swagger-ui/
	rm -rf $(STATIC)/.pack/package
	tar -xzf $(STATIC)/.pack/redoc-$(REDOC_VERSION).tgz -C $(STATIC)/.pack
	cd $(STATIC)/.pack/package && cp bundles/redoc.standalone.js \
		bundles/redoc.standalone.js.LICENSE.txt LICENSE ../../redoc/
	printf 'swagger-ui-dist %s\nredoc %s\n' $(SWAGGER_UI_VERSION) $(REDOC_VERSION) > $(STATIC)/VERSIONS
	rm -rf $(STATIC)/.pack

clean:
	-$(BIN)/ckg store stop
	rm -rf $(VENV) $(RASA)/.venv $(LINT)/node_modules $(EXPLORE)/node_modules $(EXPLORE_STATIC) .mypy_cache .ruff_cache .pytest_cache
