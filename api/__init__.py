"""Gridcast GraphQL API: FastAPI + Strawberry over the indexer's Postgres."""
