// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WeightedMedian
/// @notice The weighted median of a small set: the smallest value whose cumulative weight (values
/// in ascending order) reaches half the total weight.
library WeightedMedian {
    /// @notice The weighted median of `vals` under weights `ws` whose sum is `total`.
    /// @dev Insertion sort of copies (the inputs are not modified): O(n²), meant for the registry's
    /// capped per-epoch sets (at most MAX_FORECASTS_PER_EPOCH). Ties keep their input order.
    /// Requirements:
    /// - `vals` and `ws` have the same non-zero length; `total` is the sum of `ws`.
    function compute(int64[] memory vals, uint256[] memory ws, uint256 total) internal pure returns (int64) {
        uint256 n = vals.length;
        int64[] memory v = new int64[](n);
        uint256[] memory w = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            int64 x = vals[i];
            uint256 wx = ws[i];
            uint256 j = i;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                w[j] = w[j - 1];
                --j;
            }
            v[j] = x;
            w[j] = wx;
        }
        uint256 acc;
        for (uint256 i = 0; i < n; ++i) {
            acc += w[i];
            if (acc * 2 >= total) return v[i];
        }
        return v[n - 1];
    }
}
