"""The Strawberry schema: entity types derived from the SQLAlchemy models."""
