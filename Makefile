# Two entry points: `make demo` and `make test`. Both bootstrap the environment from uv.lock
# with nothing but python3 and pip: uv itself is installed into .tools/ from PyPI.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v python3.11 || command -v $(PYTHON))

.PHONY: demo test env lint i18n clean

env: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@test -x $(UV) || ($(PYTHON) -m venv .tools && .tools/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION))
	$(UV) sync --frozen --quiet
	@touch $@

demo: env
	VAXOPS_DEMO=1 .venv/bin/vaxops demo $(ARGS)

test: env
	bash scripts/test.sh $(ARGS)

clean:
	rm -rf .venv .tools var
