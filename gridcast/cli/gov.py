"""``gridcast gov``: token-holder governance (GridGovernor over GridTimelock).

``delegate`` activates an account's votes; ``propose`` puts a feed-parameter change to a vote;
``vote``, ``queue`` and ``execute`` carry it through; ``status`` shows one proposal or all of them.
Proposals are found by id from the governor's ProposalCreated events, so queue and execute need
only the id."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

import typer

from gridcast.diagnosis import exit_on_error
from gridcast.errors import fail

app = typer.Typer(help="Propose, vote on and execute governance proposals.", no_args_is_help=True)

STATES = (
    "Pending",
    "Active",
    "Canceled",
    "Defeated",
    "Succeeded",
    "Queued",
    "Expired",
    "Executed",
)
SUPPORT = {"against": 0, "for": 1, "abstain": 2}

AccountOpt = typer.Option(None, "--account", help="Ape keystore alias of the signing key.")
DevKeyOpt = typer.Option(None, "--dev-key", help="Index of an anvil dev key (local chains only).")


def _connect(account: str | None, dev_key: int | None) -> Any:
    from gridcast.chain.views import KeyChoice, connect
    from gridcast.settings import get_settings

    conn = connect(get_settings(), KeyChoice(account, dev_key))
    if not conn.deployment.governor:
        fail("this deployment has no governor: redeploy with `gridcast deploy` (governance on)")
    return conn


def _governor(conn: Any) -> Any:
    return conn.deployment.contract(conn.w3, "GridGovernor")


def _proposals(conn: Any) -> dict[int, dict[str, Any]]:
    """Every ProposalCreated event of the governor, by proposal id."""
    gov = _governor(conn)
    logs = gov.events.ProposalCreated.get_logs(from_block=conn.deployment.block)
    return {int(ev.args.proposalId): dict(ev.args) for ev in logs}


def _find(conn: Any, proposal_id: str) -> tuple[int, dict[str, Any]]:
    try:
        pid = int(proposal_id, 0)
    except ValueError:
        fail(f"not a proposal id: {proposal_id!r}")
    found = _proposals(conn).get(pid)
    if found is None:
        fail(f"no proposal {pid} on this governor (see `gridcast gov status`)")
    return pid, found


def _actions(p: dict[str, Any]) -> tuple[list[str], list[int], list[bytes], bytes]:
    from eth_utils import keccak

    return (
        list(p["targets"]),
        list(p["values"]),
        list(p["calldatas"]),
        keccak(text=p["description"]),
    )


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def delegate(
    to: str | None = typer.Option(None, help="Delegate to this address (default: yourself)."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Delegate the signer's GRID votes (to itself by default); votes count from the next block."""
    conn = _connect(account, dev_key)
    target = to or conn.account.address
    conn.submitter.transact(conn.token, "delegate", target)
    typer.echo(f"delegated votes of {conn.account.address} to {target}")


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def propose(
    feed: str = typer.Option(..., help="Feed id (0x...)."),
    set_: str = typer.Option(
        ..., "--set", help='JSON of FeedParams fields to change, e.g. {"reward_per_epoch": 5}.'
    ),
    description: str = typer.Option(..., help="What the proposal does and why."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Propose a change of a feed's parameters (it applies from the first round beyond the
    registry's commit horizon once executed)."""
    from eth_utils import keccak

    from gridcast.chain.deployment import FeedParams

    try:
        changes = json.loads(set_)
        feed_id = bytes.fromhex(feed.removeprefix("0x"))
    except ValueError as exc:
        fail(f"bad --set JSON or --feed id: {exc}")
    if not isinstance(changes, dict) or not changes:
        fail('--set must be a JSON object of fields, e.g. {"reward_per_epoch": 5}')
    unknown = set(changes) - {f.name for f in fields(FeedParams)}
    if unknown:
        fail(f"unknown FeedParams fields: {sorted(unknown)}")
    conn = _connect(account, dev_key)
    current = FeedParams.from_tuple(conn.registry.functions.feedParams(feed_id).call())
    new = replace(current, **{k: int(v) for k, v in changes.items()})
    calldata = conn.registry.encode_abi("setFeedParams", args=[feed_id, new.as_tuple()])
    targets, values, calldatas = [conn.registry.address], [0], [calldata]
    gov = _governor(conn)
    conn.submitter.transact(gov, "propose", targets, values, calldatas, description)
    pid = gov.functions.hashProposal(targets, values, calldatas, keccak(text=description)).call()
    typer.echo(f"proposal {pid}")


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def vote(
    proposal_id: str = typer.Argument(..., help="The proposal id (decimal or 0x)."),
    support: str = typer.Option("for", help="for, against or abstain."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Cast the signer's vote on an active proposal."""
    if support not in SUPPORT:
        fail(f"--support must be one of {', '.join(SUPPORT)}")
    conn = _connect(account, dev_key)
    pid, _ = _find(conn, proposal_id)
    conn.submitter.transact(_governor(conn), "castVote", pid, SUPPORT[support])
    typer.echo(f"voted {support} on {pid}")


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def queue(
    proposal_id: str = typer.Argument(..., help="The proposal id (decimal or 0x)."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Queue a succeeded proposal in the timelock."""
    conn = _connect(account, dev_key)
    pid, p = _find(conn, proposal_id)
    conn.submitter.transact(_governor(conn), "queue", *_actions(p))
    eta = _governor(conn).functions.proposalEta(pid).call()
    typer.echo(f"queued {pid}: executable from {eta}")


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def execute(
    proposal_id: str = typer.Argument(..., help="The proposal id (decimal or 0x)."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Execute a queued proposal whose timelock delay has passed."""
    conn = _connect(account, dev_key)
    pid, p = _find(conn, proposal_id)
    conn.submitter.transact(_governor(conn), "execute", *_actions(p))
    typer.echo(f"executed {pid}")


@app.command()
@exit_on_error(FileNotFoundError)  # no deployment file: one line, exit 2
def status(
    proposal_id: str | None = typer.Argument(None, help="One proposal; default: all of them."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """State, votes and deadlines of one proposal or every proposal."""
    from gridcast.chain.deployment import Deployment
    from gridcast.chain.views import Contracts, web3_for
    from gridcast.settings import get_settings

    s = get_settings()
    conn = Contracts(web3_for(s), Deployment.load(s.deployment_file))
    if not conn.deployment.governor:
        fail("this deployment has no governor: redeploy with `gridcast deploy` (governance on)")
    gov = _governor(conn)
    items = _proposals(conn)
    if proposal_id is not None:
        pid, p = _find(conn, proposal_id)
        items = {pid: p}
    for pid, p in items.items():
        against, for_, abstain = gov.functions.proposalVotes(pid).call()
        row = {
            "id": str(pid),
            "state": STATES[gov.functions.state(pid).call()],
            "for": str(for_),
            "against": str(against),
            "abstain": str(abstain),
            "voteStart": int(p["voteStart"]),
            "voteEnd": int(p["voteEnd"]),
            "eta": int(gov.functions.proposalEta(pid).call()),
            "description": p["description"],
        }
        if as_json:
            typer.echo(json.dumps(row))
        else:
            typer.echo(
                f"{row['id'][:12]}… {row['state']:9} for={row['for']} against={row['against']} "
                f"abstain={row['abstain']} end={row['voteEnd']} {row['description']}"
            )


__all__ = ["app"]
