// The tables Gridcast's handlers write, as Ponder onchain tables (current state; Ponder keeps
// its own reorg history).
import { onchainTable } from "ponder";

export const feed = onchainTable("feed", (t) => ({
  id: t.text().primaryKey(),
  region: t.text(),
  metric: t.text(),
  pool: t.bigint(),
}));

export const epoch = onchainTable("epoch", (t) => ({
  id: t.text().primaryKey(),
  feedId: t.text(),
  epoch: t.bigint(),
  commitCount: t.integer(),
  totalCommittedWeight: t.bigint(),
  revealCount: t.integer(),
  scoredCount: t.integer(),
  status: t.text(),
}));

export const forecast = onchainTable("forecast", (t) => ({
  id: t.text().primaryKey(),
  feedId: t.text(),
  epoch: t.bigint(),
  operator: t.hex(),
  commitment: t.hex(),
  weight: t.bigint(),
  revealed: t.boolean(),
  value: t.bigint(),
  lower: t.bigint(),
  upper: t.bigint(),
  scored: t.boolean(),
  score: t.bigint(),
  reward: t.bigint(),
  slashed: t.bigint(),
}));

export const consensus = onchainTable("consensus", (t) => ({
  id: t.text().primaryKey(),
  value: t.bigint(),
  lower: t.bigint(),
  upper: t.bigint(),
  forecasts: t.integer(),
  totalWeight: t.bigint(),
}));

export const truth = onchainTable("truth", (t) => ({
  id: t.text().primaryKey(),
  value: t.bigint(),
  evidenceHash: t.hex(),
  status: t.text(),
}));

export const settlement = onchainTable("settlement", (t) => ({
  id: t.text().primaryKey(),
  truthValue: t.bigint(),
  reward: t.bigint(),
  totalScore: t.bigint(),
  forecasts: t.integer(),
}));

export const stake = onchainTable("stake", (t) => ({
  id: t.hex().primaryKey(),
  active: t.bigint(),
}));

export const stakeEvent = onchainTable("stake_event", (t) => ({
  id: t.text().primaryKey(),
  operator: t.hex(),
  kind: t.text(),
  amount: t.bigint(),
  totalStake: t.bigint(),
}));

export const withdrawal = onchainTable("withdrawal", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex(),
  amount: t.bigint(),
}));
