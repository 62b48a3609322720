// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PointStore
/// @notice Packing of revealed forecast points and their storage as contract code (SSTORE2).
/// @dev A point is [value | lower | upper] as three int40 (120 bits). Batches of SSTORE2_MIN points
/// or more are written as the code of a data contract (200 gas a byte instead of 22.1k a slot):
/// an 11-byte init header, a STOP byte so the data can never run, then POINT_BYTES a point. Smaller
/// batches go to storage, two points a slot (the registry's `_points`).
library PointStore {
    /// @notice Bytes a point takes in a data contract.
    uint256 internal constant POINT_BYTES = 15;
    /// @notice Length of the data contract's init code header.
    uint256 internal constant INIT_HEADER = 11;
    /// @notice Batches of at least this many points are stored as code.
    uint256 internal constant SSTORE2_MIN = 8;
    /// @notice The value range a point's fields must lie in (int40).
    int64 internal constant MAX_VALUE = int64(type(int40).max);
    int64 internal constant MIN_VALUE = int64(type(int40).min);

    /// @notice Packs (value, lower, upper) into 120 bits.
    /// @dev Requirements: each field lies in [MIN_VALUE, MAX_VALUE] (the caller checks).
    function pack(int64 v, int64 lo, int64 hi) internal pure returns (uint256) {
        return uint256(uint40(int40(v))) | (uint256(uint40(int40(lo))) << 40) | (uint256(uint40(int40(hi))) << 80);
    }

    /// @notice Unpacks the low 120 bits of `point` into (value, lower, upper).
    function unpack(uint256 point) internal pure returns (int64 v, int64 lo, int64 hi) {
        v = int64(int40(uint40(point)));
        lo = int64(int40(uint40(point >> 40)));
        hi = int64(int40(uint40(point >> 80)));
    }

    /// @notice A buffer for the init code of a data contract holding `n` points (32 bytes of slack
    /// so each point can be written with one 32-byte store).
    function newBuffer(uint256 n) internal pure returns (bytes memory) {
        return new bytes(INIT_HEADER + POINT_BYTES * n + 32);
    }

    /// @notice Writes point `i` into the buffer. Points must be written in increasing `i` (each
    /// store's spill is overwritten by the next point).
    function put(bytes memory init, uint256 i, uint256 point) internal pure {
        assembly ("memory-safe") {
            mstore(add(add(init, 0x20), add(INIT_HEADER, mul(POINT_BYTES, i))), shl(136, point))
        }
    }

    /// @notice Reads point `i` back from the buffer.
    function get(bytes memory init, uint256 i) internal pure returns (uint256 point) {
        assembly ("memory-safe") {
            point := shr(136, mload(add(add(init, 0x20), add(INIT_HEADER, mul(POINT_BYTES, i)))))
        }
    }

    /// @notice Deploys the buffer's `n` points as a data contract; address(0) when creation failed.
    function deploy(bytes memory init, uint256 n) internal returns (address data) {
        uint256 codeLength = 1 + POINT_BYTES * n; // STOP byte + points
        uint256 initLength = INIT_HEADER + POINT_BYTES * n;
        assembly ("memory-safe") {
            let p := add(init, 0x20)
            // 0x61 LLLL 80 60 0b 3d 39 3d f3 00 (11 bytes) left-aligned over the first word's header.
            let header := or(shl(248, 0x61), or(shl(232, codeLength), shl(168, 0x80600a3d393df300)))
            mstore(p, or(header, and(mload(p), sub(shl(168, 1), 1))))
            data := create(0, p, initLength)
        }
    }

    /// @notice Point `i` of a data contract written by `deploy`.
    function load(address data, uint256 i) internal view returns (uint256 point) {
        assembly ("memory-safe") {
            extcodecopy(data, 0, add(1, mul(POINT_BYTES, i)), POINT_BYTES)
            point := shr(136, mload(0))
        }
    }
}
