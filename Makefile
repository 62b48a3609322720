.PHONY: setup demo test lint format bench

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/gridcast demo

test: setup
	.venv/bin/pytest

# Solidity linted by solhint (.solhint.json) and prettier-plugin-solidity (.prettierrc.json): the
# protocol contracts, their interfaces, libraries and governance (other folders opt in by adding here).
SOL_LINTED := contracts/ForecastRegistry.sol contracts/OperatorStaking.sol contracts/Settlement.sol \
	contracts/GridToken.sol contracts/interfaces/IForecastRegistry.sol \
	contracts/interfaces/IOperatorStaking.sol contracts/interfaces/ISettlement.sol \
	contracts/libraries/*.sol contracts/governance/*.sol contracts/test/LibraryHarness.sol \
	contracts/exchange/*.sol contracts/delivery/*.sol contracts/assets/*.sol contracts/certificates/*.sol \
	contracts/test/ReentrantToken.sol

lint:
	node_modules/.bin/solhint --max-warnings 0 $(SOL_LINTED)
	node_modules/.bin/prettier --check $(SOL_LINTED)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python scripts/check_import_cycles.py

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
