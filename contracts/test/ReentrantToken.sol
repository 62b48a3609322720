// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken — TEST ONLY, never deploy outside tests.
/// @notice An ERC-20 whose transfer hook calls back into a target once armed, bubbling up any revert,
/// so tests can show that the protocol's ReentrancyGuard stops re-entry through a token.
contract ReentrantToken is ERC20 {
    error ReentrantTokenCallFailed();

    address private _target;
    bytes private _payload;
    bool private _armed;

    constructor() ERC20("Reentrant Test Token", "REENTER") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The next transfer calls `target` with `payload` from inside the token.
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
        _armed = true;
    }

    function disarm() external {
        _armed = false;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (_armed) {
            _armed = false;
            // The test needs an arbitrary re-entering call, which only a low-level call can make.
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory ret) = _target.call(_payload);
            if (!ok) {
                if (ret.length == 0) revert ReentrantTokenCallFailed();
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}
