.PHONY: setup demo test lint format

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/gridcast demo

test:
	.venv/bin/pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
