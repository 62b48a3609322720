// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title GridTimelock
/// @notice The TimelockController that holds the protocol's admin roles (feed admin and parameters,
/// staking parameters, appointing arbiters and truth reporters). Only the GridGovernor proposes and
/// cancels; anyone executes a queued operation once its delay has passed.
contract GridTimelock is TimelockController {
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
