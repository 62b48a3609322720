// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EpochCounters} from "../libraries/EpochCounters.sol";
import {PointStore} from "../libraries/PointStore.sol";
import {WeightedMedian} from "../libraries/WeightedMedian.sol";

/// @title LibraryHarness
/// @notice Exposes the registry's libraries for property tests (tests/contracts/test_libraries.py).
contract LibraryHarness {
    error LibraryHarnessDeployFailed();

    mapping(uint64 => uint256) private _groups;
    address private _data;

    function median(int64[] memory vals, uint256[] memory ws) external pure returns (int64) {
        uint256 total;
        for (uint256 i = 0; i < ws.length; ++i) total += ws[i];
        return WeightedMedian.compute(vals, ws, total);
    }

    function packUnpack(int64 v, int64 lo, int64 hi) external pure returns (int64, int64, int64) {
        return PointStore.unpack(PointStore.pack(v, lo, hi));
    }

    /// @notice Writes the points through a buffer into a data contract (n >= 1).
    function storeAsCode(int64[] memory vs, int64[] memory los, int64[] memory his) external {
        uint256 n = vs.length;
        bytes memory init = PointStore.newBuffer(n);
        for (uint256 i = 0; i < n; ++i) {
            PointStore.put(init, i, PointStore.pack(vs[i], los[i], his[i]));
        }
        _data = PointStore.deploy(init, n);
        if (_data == address(0)) revert LibraryHarnessDeployFailed();
    }

    function loadFromCode(uint256 i) external view returns (int64, int64, int64) {
        return PointStore.unpack(PointStore.load(_data, i));
    }

    function bump(uint64 firstEpoch, uint256 n, bool reveals, uint256 cap) external {
        uint256 shift = reveals ? EpochCounters.REVEALS : EpochCounters.COMMITS;
        EpochCounters.bump(_groups, bytes32(0), firstEpoch, n, shift, cap);
    }

    function counts(uint64 epoch) external view returns (uint256 commits, uint256 reveals) {
        return (
            EpochCounters.count(_groups, epoch, EpochCounters.COMMITS),
            EpochCounters.count(_groups, epoch, EpochCounters.REVEALS)
        );
    }
}
