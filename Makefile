# Two commands for a newcomer: `make book` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: book test lab lab-authors student grade notebooks benchmarks browser assets clean

# The virtual environment, with the pinned runtime/build requirements and course_lib, and the
# defaults its JupyterLab (make lab) starts with: tools/jupyterlab-overrides.json, widget messages
# on the kernel's main shell, not on a subshell thread (faster: benchmarks/README.md).
$(VENV)/.runtime: requirements.txt pyproject.toml tools/jupyterlab-overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
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

## make lab: open the student versions of the chapters (solutions removed) in JupyterLab, the
## text rendered as on the website (jupyterlab-myst), widgets working. They are written into
## student/ the first time; after that your work there is kept (delete a notebook for a fresh copy).
lab: $(VENV)/.runtime
	$(BIN)/python tools/student.py book student --keep
	$(BIN)/jupyter lab student/

## make lab-authors: open the chapters themselves, with their solutions, to edit them.
lab-authors: $(VENV)/.runtime
	$(BIN)/jupyter lab book/

## make student: (re)write the student versions of all chapters into student/: every solution
## removed, every exercise statement and paragraph kept, outputs cleared. Overwrites student/.
student: $(VENV)/.runtime
	$(BIN)/python tools/student.py book student

## make grade SUBMISSIONS=folder: run the notebooks handed in (one folder per student) and report
## pass / fail / not done per student and exercise (README.md, "For instructors").
grade: $(VENV)/.runtime
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=path/to/submissions"; exit 2; }
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)"

## make notebooks: re-execute every chapter in a fresh kernel and store its outputs
## (and the widgets' state, which the website shows). Run after editing a chapter.
notebooks: $(VENV)/.runtime
	$(BIN)/python tools/execute_notebooks.py book/*.ipynb

## make benchmarks: print speed ratios (see benchmarks/README.md).
benchmarks: $(VENV)/.test
	$(BIN)/python benchmarks/run_all.py

## Headless Chromium for the browser tests, which run /usr/bin/chromium (tests/site_fixtures.py).
## Installed with apt-get where there is apt-get (Debian); elsewhere this says what to install.
browser:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	else \
	  echo "The browser tests need Chromium at /usr/bin/chromium, and this system has no apt-get."; \
	  echo "Install Chromium with its package manager, for example:"; \
	  echo "    sudo dnf install chromium          # Fedora, RHEL (with EPEL)"; \
	  echo "    sudo pacman -S chromium            # Arch"; \
	  echo "    sudo zypper install chromium       # openSUSE"; \
	  echo "    sudo apk add chromium              # Alpine"; \
	  echo "If it lands under another name, link it:  sudo ln -s \"\$$(command -v chromium-browser)\" /usr/bin/chromium"; \
	  echo "(macOS and Windows: run the tests in a Debian container or CI, see README.md.)"; \
	  exit 1; \
	fi

clean:
	rm -rf _build student
