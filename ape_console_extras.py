"""`ape console` starts with the Gridcast deployment loaded: token, staking, registry, settlement,
plus helpers for the admin tasks (the same as the scripts/ admin scripts)."""

from typing import Any

from gridcast.chain.commitments import feed_id
from gridcast.chain.deployment import role


def ape_init_extras(**_: Any) -> dict[str, Any]:
    try:
        from scripts._gridcast import contracts

        c = contracts()
    except FileNotFoundError as exc:
        print(f"gridcast: {exc}")
        return {"feed_id": feed_id, "role": role}

    def pause_feed(feed: str, sender: Any) -> Any:
        return c["registry"].pauseFeed(feed, sender=sender)

    def grant(contract: str, role_name: str, who: str, sender: Any) -> Any:
        return c[contract].grantRole(role(role_name), who, sender=sender)

    def resolve(feed: str, epoch: int, upheld: bool, value: int, sender: Any) -> Any:
        return c["settlement"].resolveDispute(feed, epoch, upheld, value, sender=sender)

    return {
        **c,
        "feed_id": feed_id,
        "role": role,
        "pause_feed": pause_feed,
        "grant": grant,
        "resolve": resolve,
    }
