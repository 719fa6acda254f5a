# Two commands: `make run` sets everything up and starts the app; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENDOR := webui/static/vendor

.PHONY: run test setup vendor translations browser lint clean

run: setup
	$(VENV)/bin/closeloop run

# Lint and format are checked first: a tree that drifts from `ruff format` fails like a failing test.
# pytest exits 5 when it collects nothing: that is a broken suite, not a green one.
test: setup browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$status

setup: $(STAMP) vendor translations

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Browser libraries come from npm and are copied, never committed (webui/static/vendor is git-ignored).
vendor: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/bpmn-js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	cp -r node_modules/bpmn-js/dist/assets/. $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js $(VENDOR)/bpmn-js/
	mkdir -p $(VENDOR)/leaflet
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/leaflet/
	cp -r node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	cp node_modules/signature_pad/dist/signature_pad.umd.min.js $(VENDOR)/signature_pad.umd.min.js
	mkdir -p $(VENDOR)/editor $(VENDOR)/dmn-js
	cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css $(VENDOR)/editor/
	cp -r node_modules/dmn-js/dist/assets/. $(VENDOR)/dmn-js/
	# The process editor (issue 12): our entries (webui/static_src/editor) bundled with the bpmn-js modeler, its
	# properties panel (no browser bundle usable with a custom provider) and dmn-js, without inline styles.
	node webui/static_src/editor/build.mjs

translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d translations -D messages >/dev/null

# The browser tests drive Debian's Chromium, and Chinese needs a CJK font (screenshots, PDFs);
# install what is missing (root, or sudo).
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . ; } || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium chromium-driver fonts-wqy-zenhei fontconfig; }

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
