# The two entry points a newcomer needs are `make demo` and `make test`; every other target is a step of those.
SHELL := /bin/bash
UV_VERSION := 0.13.9
export PATH := $(CURDIR)/tools/pulumi/bin:$(HOME)/.local/bin:$(PATH)

.PHONY: setup engine examples plugin sdks lint unit e2e test demo

setup:
	@command -v uv >/dev/null || python3 -m pip install --quiet --user "uv==$(UV_VERSION)"
	@# With bytecode, for the dependencies (--compile-bytecode) and the editable sources
	@# (compileall): every start-up (CLI, plugin, tests) then reads .pyc files instead of compiling
	@# each module, also where PYTHONDONTWRITEBYTECODE is set. (Not compile-bytecode in pyproject:
	@# every `uv run` would compile again.)
	uv sync --frozen --compile-bytecode
	uv run --no-sync python -m compileall -q provider stacks tools/demo.py >/dev/null

engine:
	bash tools/pulumi/build.sh

# The TypeScript example's SDK (generated from the plugin's schema), npm packages and build.
examples: engine
	bash examples/build.sh

# The versioned plugin artifact and the wheel it ships (dist/), as a release publishes them.
plugin: setup
	uv run python tools/package_plugin.py --out dist

# The SDKs in sdk/ (committed), regenerated from the schema by the upstream generators.
sdks: engine
	bash sdk/generate.sh

lint: setup
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

unit: setup
	uv run pytest -n 2 --dist loadgroup -m "not e2e"

e2e: setup engine examples
	uv run pytest -n 2 --dist loadgroup -m e2e

test: setup engine examples lint
	uv run pytest -n 2 --dist loadgroup

demo: setup engine
	uv run python tools/demo.py
