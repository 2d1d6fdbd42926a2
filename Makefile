# codesign — the two commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
CORE    = $(VENV)/.installed-core
STAMP   = $(VENV)/.installed-test

.PHONY: demo test docs venv peer clean

# the core (what `make demo` needs: the default search); torch first, from the constraints
$(CORE): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) is required (set PYTHON=...)" >&2; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	PYTHONWARNINGS=ignore $(PIP) install -q -c constraints.txt -e .
	touch $(CORE)

# everything the tests need: every extra but Gemma's, the docs tools, pytest and Playwright
$(STAMP): $(CORE)
	PYTHONWARNINGS=ignore $(PIP) install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# zigzag-dse for `codesign bench cost` and experiments/zigzag_reference_cases.py, in its own
# environment (it pins numpy/onnx versions of its own); torch is not needed there.
peer: .venv-peer/.installed
.venv-peer/.installed:
	test -x .venv-peer/bin/python || $(PYTHON) -m venv .venv-peer
	.venv-peer/bin/python -m pip install -q zigzag-dse==3.9.1 six  # six: imported by zigzag, not declared
	touch $@

demo: $(CORE)
	sh scripts/install-system-deps.sh dataset-fashion-mnist  # the demo problem's data
	$(VENV)/bin/codesign run experiments/demo.yaml

test: $(STAMP)
	sh scripts/install-system-deps.sh
	$(PY) -m pytest -q

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) runs site .pytest_cache
