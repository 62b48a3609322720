.PHONY: setup demo test lint format bench

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/gridcast demo

test: setup
	.venv/bin/pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
