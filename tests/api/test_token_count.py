"""The API's pre-parse token count never exceeds graphql-core's, so the quick refusal of oversized
documents cannot refuse one the parser would accept."""

from __future__ import annotations

from graphql import Source, TokenKind
from graphql import build_schema as sdl_schema
from graphql.language.lexer import Lexer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from api.graphql.schema import build_schema
from api.guard import rough_tokens

SCHEMA = sdl_schema(build_schema().as_str())
SCALARS = {
    "BigInt": st.integers(min_value=-(2**70), max_value=2**260).map(lambda n: nodes.String(str(n))),
    "JSON": st.just(nodes.String('{"a": "b # c"}')),
}


def lexer_tokens(doc: str) -> int:
    lexer, n = Lexer(Source(doc)), 0
    while lexer.advance().kind != TokenKind.EOF:
        n += 1
    return n


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(doc=queries(SCHEMA, custom_scalars=SCALARS))
def test_rough_count_never_exceeds_the_lexers(doc: str) -> None:
    assert rough_tokens(doc) <= lexer_tokens(doc)


def test_rough_count_of_an_alias_flood_is_close_to_the_lexers() -> None:
    doc = "{ " + " ".join(f"m{i}: _meta {{ deployment }}" for i in range(9000)) + " } # x"
    assert rough_tokens(doc) == lexer_tokens(doc) == 9000 * 6 + 2
    assert rough_tokens(doc, 10_001) == 10_001
    spaced = '{ a: feeds(where: {id_in: ["x y", "#z", """block "" str"""]}) { id } }'
    assert rough_tokens(spaced) == lexer_tokens(spaced)
