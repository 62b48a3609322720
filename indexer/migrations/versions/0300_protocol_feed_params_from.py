"""Protocol v2: feeds.params_from, the first epoch a feed's newest parameters apply to
(ForecastRegistry's FeedParamsScheduled event; earlier epochs keep their committed parameters).

Revision ID: 0300_protocol_feed_params_from
Revises: 0011_indexer_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0300_protocol_feed_params_from"
down_revision = "0011_indexer_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "feeds", sa.Column("params_from", sa.BigInteger(), nullable=True, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("feeds", "params_from")
