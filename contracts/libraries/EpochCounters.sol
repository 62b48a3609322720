// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title EpochCounters
/// @notice Per-epoch commit and reveal counters, bit-packed: eight epochs per storage slot, 32 bits
/// an epoch (commit count in the low 16 bits, reveal count in the high 16).
library EpochCounters {
    /// @notice Bit offset of the commit counter within an epoch's 32 bits.
    uint256 internal constant COMMITS = 0;
    /// @notice Bit offset of the reveal counter within an epoch's 32 bits.
    uint256 internal constant REVEALS = 16;

    /// @notice The counter at `shift` (COMMITS or REVEALS) of `epoch`.
    function count(
        mapping(uint64 => uint256) storage groups,
        uint64 epoch,
        uint256 shift
    ) internal view returns (uint256) {
        return (groups[epoch >> 3] >> ((epoch & 7) * 32 + shift)) & 0xffff;
    }

    /// @notice The registry's error (same selector, so the registry's ABI describes it): the counter
    /// of `epoch` would pass the cap.
    error ForecastRegistryEpochFull(bytes32 feedId, uint64 epoch);

    /// @notice Adds one to the counter at `shift` of the `n` consecutive epochs from `firstEpoch`,
    /// one storage write per group of eight epochs.
    /// @dev Reverts ForecastRegistryEpochFull(feedId, epoch) at the first epoch whose counter would
    /// pass `cap` (0: no cap); `feedId` only names the feed in that error.
    /// Requirements:
    /// - every bumped counter stays within `cap` (when non-zero) and below 2**16.
    function bump(
        mapping(uint64 => uint256) storage groups,
        bytes32 feedId,
        uint64 firstEpoch,
        uint256 n,
        uint256 shift,
        uint256 cap
    ) internal {
        uint64 epoch = firstEpoch;
        uint64 end = firstEpoch + uint64(n);
        while (epoch < end) {
            uint64 group = epoch >> 3;
            uint256 word = groups[group];
            do {
                uint256 bit = (epoch & 7) * 32 + shift;
                uint256 c = ((word >> bit) & 0xffff) + 1;
                if (cap != 0 && c > cap) revert ForecastRegistryEpochFull(feedId, epoch);
                word = (word & ~(uint256(0xffff) << bit)) | (c << bit);
                ++epoch;
            } while (epoch < end && epoch & 7 != 0);
            groups[group] = word;
        }
    }
}
