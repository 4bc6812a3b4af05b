# Two commands for a newcomer: `make book` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: book test lab student notebooks benchmarks browser assets clean

# The virtual environment, with the pinned runtime/build requirements and course_lib.
$(VENV)/.runtime: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The same, plus the pinned test requirements (pytest, nbval, torch CPU, Playwright, ...).
$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

# The website's own copies of MathJax, RequireJS and the widget manager (no CDN), at the
# versions pinned in package-lock.json; tools/offline_assets.py copies them into the site.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## make assets: install the website's browser assets (npm ci).
assets: node_modules/.package-lock.json

## make book: install everything and build the website into _build/html.
book: $(VENV)/.runtime assets
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo ""
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

## make test: install everything and run every test (library, checkers, widgets,
## notebooks through nbval, the site build and the browser tests).
test: $(VENV)/.test browser assets
	$(BIN)/python -m pytest tests book --nbval -p no:cacheprovider

## make lab: open the chapters in JupyterLab (ipywidgets work out of the box).
lab: $(VENV)/.runtime
	$(BIN)/jupyter lab book/

## make student: write the student versions of all chapters (solutions removed) into student/.
student: $(VENV)/.runtime
	$(BIN)/python tools/student.py book student

## make notebooks: re-execute every chapter in a fresh kernel and store its outputs
## (and the widgets' state, which the website shows). Run after editing a chapter.
notebooks: $(VENV)/.runtime
	$(BIN)/python tools/execute_notebooks.py book/*.ipynb

## make benchmarks: print speed ratios (see benchmarks/README.md).
benchmarks: $(VENV)/.test
	$(BIN)/python benchmarks/run_all.py

## Headless Chromium for the browser tests: Debian's packages, installed when missing.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

clean:
	rm -rf _build student
