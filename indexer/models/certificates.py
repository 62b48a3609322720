"""Renewable energy certificate tables (EnergyCertificates, ERC-1155, 1 unit = 1 Wh, one token id
per (asset, UTC day) = assetId << 64 | day). Versioned like every entity table.

Ids: a certificate = its token id in decimal; a certified epoch = "<assetId>-<epoch>"; a balance =
"<tokenId>-<owner>"; a retirement = its retirement id in decimal; a carbon wallet = the account;
an emission factor = the feed id."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base
from indexer.models.columns import ADDR, B32, U256, Versioned

TOKEN_ID = String(80)


class Certificate(Versioned, Base):
    """One certificate id: Wh minted (ERC-1155 mints), retired (CertificatesRetired) and the
    supply left (minted − retired)."""

    __tablename__ = "certificates"
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[int] = mapped_column(BigInteger)
    feed_id: Mapped[str | None] = mapped_column(B32, nullable=True)
    minted: Mapped[Decimal] = mapped_column(U256, default=0)
    retired: Mapped[Decimal] = mapped_column(U256, default=0)
    supply: Mapped[Decimal] = mapped_column(U256, default=0)
    first_block: Mapped[int] = mapped_column(BigInteger)


class CertifiedEpoch(Versioned, Base):
    """One (asset, epoch) of a DeliveryCertified claim: its proven energy and the certificate id
    it was minted under. Immutable."""

    __tablename__ = "certified_epochs"
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    certificate_id: Mapped[str] = mapped_column(TOKEN_ID, index=True)
    owner: Mapped[str] = mapped_column(ADDR, index=True)
    energy_wh: Mapped[Decimal] = mapped_column(U256)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class CertificateBalance(Versioned, Base):
    """An account's balance of one certificate id (ERC-1155 TransferSingle / TransferBatch)."""

    __tablename__ = "certificate_balances"
    certificate_id: Mapped[str] = mapped_column(TOKEN_ID, index=True)
    owner: Mapped[str] = mapped_column(ADDR, index=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[Decimal] = mapped_column(U256, default=0)


class Retirement(Versioned, Base):
    """CertificatesRetired: energy burnt for a beneficiary and purpose, with the avoided CO2e at
    the feed's emission factor then. Immutable."""

    __tablename__ = "retirements"
    account: Mapped[str] = mapped_column(ADDR, index=True)
    certificate_id: Mapped[str] = mapped_column(TOKEN_ID, index=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[int] = mapped_column(BigInteger)
    energy_wh: Mapped[Decimal] = mapped_column(U256)
    co2e_grams: Mapped[Decimal] = mapped_column(U256)
    grams_per_kwh: Mapped[int] = mapped_column(Integer)
    beneficiary: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class CarbonWallet(Versioned, Base):
    """An account's retirements summed: Wh retired and grams of CO2e avoided."""

    __tablename__ = "carbon_wallets"
    retired_wh: Mapped[Decimal] = mapped_column(U256, default=0)
    co2e_grams: Mapped[Decimal] = mapped_column(U256, default=0, index=True)
    retirement_count: Mapped[int] = mapped_column(Integer, default=0)


class EmissionFactor(Versioned, Base):
    """EmissionFactorSet: a feed's grid emission factor (g CO2e per kWh) used from then on."""

    __tablename__ = "emission_factors"
    grams_per_kwh: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)


CERTIFICATE_MODELS: tuple[type[Base], ...] = (
    Certificate, CertifiedEpoch, CertificateBalance, Retirement, CarbonWallet, EmissionFactor,
)  # fmt: skip
