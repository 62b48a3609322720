// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title EpochCounters
/// @notice Per-epoch commit and reveal counters, bit-packed: sixteen epochs per storage slot, 16 bits
/// an epoch (commit count in the low 8 bits, reveal count in the high 8). Eight bits suffice: the
/// registry caps commits per epoch at MAX_FORECASTS_PER_EPOCH (128) and an epoch never has more
/// reveals than commits; a counter that would pass 255 reverts all the same.
library EpochCounters {
    /// @notice Bit offset of the commit counter within an epoch's 16 bits.
    uint256 internal constant COMMITS = 0;
    /// @notice Bit offset of the reveal counter within an epoch's 16 bits.
    uint256 internal constant REVEALS = 8;
    /// @notice The largest value a counter holds.
    uint256 internal constant MAX_COUNT = 0xff;

    /// @notice The counter at `shift` (COMMITS or REVEALS) of `epoch`.
    function count(
        mapping(uint64 => uint256) storage groups,
        uint64 epoch,
        uint256 shift
    ) internal view returns (uint256) {
        return (groups[epoch >> 4] >> ((epoch & 15) * 16 + shift)) & MAX_COUNT;
    }

    /// @notice The registry's error (same selector, so the registry's ABI describes it): the counter
    /// of `epoch` would pass the cap.
    error ForecastRegistryEpochFull(bytes32 feedId, uint64 epoch);

    /// @notice Adds one to the counter at `shift` of the `n` consecutive epochs from `firstEpoch`,
    /// one storage write per group of sixteen epochs.
    /// @dev Reverts ForecastRegistryEpochFull(feedId, epoch) at the first epoch whose counter would
    /// pass `cap` (0: no cap) or MAX_COUNT; `feedId` only names the feed in that error.
    /// Requirements:
    /// - every bumped counter stays within `cap` (when non-zero) and within MAX_COUNT.
    function bump(
        mapping(uint64 => uint256) storage groups,
        bytes32 feedId,
        uint64 firstEpoch,
        uint256 n,
        uint256 shift,
        uint256 cap
    ) internal {
        uint256 limit = cap != 0 && cap < MAX_COUNT ? cap : MAX_COUNT;
        uint64 epoch = firstEpoch;
        uint64 end = firstEpoch + uint64(n);
        while (epoch < end) {
            uint64 group = epoch >> 4;
            uint256 word = groups[group];
            do {
                uint256 bit = (epoch & 15) * 16 + shift;
                uint256 c = ((word >> bit) & MAX_COUNT) + 1;
                if (c > limit) revert ForecastRegistryEpochFull(feedId, epoch);
                word = (word & ~(MAX_COUNT << bit)) | (c << bit);
                ++epoch;
            } while (epoch < end && epoch & 15 != 0);
            groups[group] = word;
        }
    }
}
