// One handler per Gridcast event, the same row changes as indexer/handlers/*.py.
import { ponder } from "ponder:registry";
import {
  consensus, epoch, feed, forecast, settlement, stake, stakeEvent, truth, withdrawal,
} from "ponder:schema";

const key = (feedId: string, n: bigint) => `${feedId}-${n}`;
const fkey = (feedId: string, n: bigint, op: string) => `${feedId}-${n}-${op.toLowerCase()}`;
const logId = (event: any) => `${event.block.number}-${event.log.logIndex}`;

async function touchEpoch(db: any, feedId: string, n: bigint) {
  await db
    .insert(epoch)
    .values({ id: key(feedId, n), feedId, epoch: n, commitCount: 0, totalCommittedWeight: 0n,
              revealCount: 0, scoredCount: 0, status: "open" })
    .onConflictDoNothing();
}

ponder.on("ForecastRegistry:FeedRegistered", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.insert(feed).values({ id: a.feedId, region: a.region, metric: a.metric, pool: 0n });
});

ponder.on("ForecastRegistry:ForecastsCommitted", async ({ event, context }) => {
  const a: any = event.args;
  const first = BigInt(a.firstEpoch);
  for (let i = 0; i < a.commitments.length; i++) {
    const n = first + BigInt(i);
    await context.db.insert(forecast).values({
      id: fkey(a.feedId, n, a.operator), feedId: a.feedId, epoch: n, operator: a.operator,
      commitment: a.commitments[i], weight: BigInt(a.weight), revealed: false, scored: false,
    });
    await touchEpoch(context.db, a.feedId, n);
    await context.db.update(epoch, { id: key(a.feedId, n) }).set((row: any) => ({
      commitCount: row.commitCount + 1,
      totalCommittedWeight: row.totalCommittedWeight + BigInt(a.weight),
    }));
  }
});

ponder.on("ForecastRegistry:ForecastsRevealed", async ({ event, context }) => {
  const a: any = event.args;
  const first = BigInt(a.firstEpoch);
  const o = a.opening;
  for (let i = 0; i < o.values.length; i++) {
    const n = first + BigInt(i);
    await context.db.update(forecast, { id: fkey(a.feedId, n, a.operator) }).set({
      revealed: true, value: BigInt(o.values[i]), lower: BigInt(o.lowers[i]), upper: BigInt(o.uppers[i]),
    });
    await context.db.update(epoch, { id: key(a.feedId, n) }).set((row: any) => ({
      revealCount: row.revealCount + 1,
    }));
  }
});

ponder.on("ForecastRegistry:ConsensusFinalized", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.insert(consensus).values({
    id: key(a.feedId, a.epoch), value: a.value, lower: a.lower, upper: a.upper,
    forecasts: Number(a.forecasts), totalWeight: a.totalWeight,
  });
  await context.db.update(epoch, { id: key(a.feedId, a.epoch) }).set({ status: "finalized" });
});

ponder.on("Settlement:RewardsFunded", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.update(feed, { id: a.feedId }).set({ pool: a.poolAfter });
});

ponder.on("Settlement:TruthSubmitted", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.insert(truth).values({
    id: key(a.feedId, a.epoch), value: a.value, evidenceHash: a.evidenceHash, status: "submitted",
  });
  await touchEpoch(context.db, a.feedId, a.epoch);
  await context.db.update(epoch, { id: key(a.feedId, a.epoch) }).set({ status: "truth_submitted" });
});

ponder.on("Settlement:EpochSettled", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.insert(settlement).values({
    id: key(a.feedId, a.epoch), truthValue: a.truthValue, reward: a.reward,
    totalScore: a.totalScore, forecasts: Number(a.forecasts),
  });
  await context.db.update(truth, { id: key(a.feedId, a.epoch) }).set({ status: "settled" });
  await context.db.update(feed, { id: a.feedId }).set({ pool: a.poolAfter });
  await context.db.update(epoch, { id: key(a.feedId, a.epoch) }).set({ status: "settled" });
});

ponder.on("Settlement:ForecastScored", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.update(forecast, { id: fkey(a.feedId, a.epoch, a.operator) }).set({
    scored: true, score: a.score, reward: a.reward, slashed: a.slashed,
  });
  await context.db.update(epoch, { id: key(a.feedId, a.epoch) }).set((row: any) => ({
    scoredCount: row.scoredCount + 1,
  }));
});

ponder.on("Settlement:RewardsWithdrawn", async ({ event, context }) => {
  const a: any = event.args;
  await context.db.insert(withdrawal).values({ id: logId(event), account: a.account, amount: a.amount });
});

ponder.on("OperatorStaking:Staked", async ({ event, context }) => {
  const a: any = event.args;
  await context.db
    .insert(stake)
    .values({ id: a.operator, active: a.totalStake })
    .onConflictDoUpdate({ active: a.totalStake });
  await context.db.insert(stakeEvent).values({
    id: logId(event), operator: a.operator, kind: "staked", amount: a.amount, totalStake: a.totalStake,
  });
});
