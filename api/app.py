"""The FastAPI application: GraphQL (HTTP + graphql-ws), SIWE auth, health, readiness, metrics."""

from __future__ import annotations

import gc
import json
import logging
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from api.auth import new_nonce, public_origin, verify_siwe
from api.errors import ApiError
from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.guard import MaskInternalErrors
from api.limits import MAX_BODY_BYTES, MAX_TOKENS, REQUEST_TIMEOUT_S, RateLimiter, cost_rule
from api.metrics import ApiMetrics
from api.pubsub import Hub
from api.records import MongoMirror, reverify
from gridcast.settings import Settings, get_settings

log = logging.getLogger("gridcast.api")


def _gql_error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


class BodyLimit:
    """Rejects request bodies over the limit before the GraphQL layer parses them.

    The body is read here, in full, before the application runs (a declared Content-Length over
    the limit is refused without reading): a chunked body that grows past the limit is answered
    413 by this middleware itself, not by an exception raised inside the layers below it."""

    def __init__(self, app: ASGIApp, limit: int, metrics: ApiMetrics) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.metrics.rejections.labels("body_size").inc()
        await _gql_error(413, f"request body exceeds {self.limit} bytes", "PAYLOAD_TOO_LARGE")(
            scope, receive, send
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for k, v in scope.get("headers") or ():
            if k == b"content-length":
                length = v
        if length is not None:
            try:
                too_big = int(length) > self.limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, receive, send)
                return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":  # the client went away
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            parts.append(body)
            if not msg.get("more_body", False):
                break
        whole: Message | None = {
            "type": "http.request",
            "body": b"".join(parts),
            "more_body": False,
        }

        async def replay() -> Message:
            nonlocal whole
            if whole is not None:
                msg, whole = whole, None
                return msg
            return await receive()

        await self.app(scope, replay, send)


class RateLimit:
    """Per-client rate limit on /graphql and /auth, as plain ASGI (BaseHTTPMiddleware ran each
    request through an extra task and a streamed response wrapper)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, metrics: ApiMetrics) -> None:
        self.app, self.limiter, self.metrics = app, limiter, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(("/graphql", "/auth"))
            and scope["method"] != "OPTIONS"
        ):
            client = scope.get("client")
            ip = client[0] if client else "unknown"
            try:
                ok = await self.limiter.allow(ip)
            except Exception:  # noqa: BLE001 - a Redis outage must not take the API down
                log.warning("rate limiter unavailable", exc_info=True)
                ok = True
            if not ok:
                self.metrics.rejections.labels("rate_limit").inc()
                await _gql_error(
                    429, f"rate limit exceeded: at most {self.limiter.per_minute} requests per "
                    "minute per client", "RATE_LIMITED",
                )(scope, receive, send)  # fmt: skip
                return
        await self.app(scope, receive, send)


class Router(GraphQLRouter[Any, Any]):
    def encode_json(self, data: object) -> bytes | str:
        # Text, not bytes: Strawberry sends bytes as binary WebSocket frames, and graphql-ws
        # clients (the browser's included) read only text frames, so live updates vanished.
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # an integer beyond 64 bits inside a JSON scalar
            return json.dumps(data)


def deployment_id(settings: Settings) -> str:
    try:
        from gridcast.chain.deployment import Deployment

        dep = Deployment.load(settings.deployment_file)
        return f"{dep.chain_id}:{dep.addresses['ForecastRegistry'].lower()}"
    except Exception:  # noqa: BLE001 - no deployment file yet: name the chain only
        return f"{settings.chain_id}:unknown"


def create_app(
    settings: Settings | None = None,
    *,
    deployment: str | None = None,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
    response_cache: bool = True,
    freeze_gc: bool = False,
) -> FastAPI:
    """The API. ``request_timeout_s`` bounds each GraphQL execution (and each SQL statement)."""
    s = settings or get_settings()
    from gridcast.services import database_url

    db_url = database_url(s)
    # no pre-ping: it would add a round trip to every statement's checkout
    statement_ms = max(1, int(request_timeout_s * 1000))
    engine = create_async_engine(
        db_url, pool_size=20, max_overflow=30, pool_recycle=1800,
        connect_args={"options": f"-c statement_timeout={statement_ms}"},
    )  # fmt: skip
    metrics = ApiMetrics()
    hub = Hub(s.redis_url, db_url)
    limiter = RateLimiter(s.rate_limit_per_minute, s.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        hub.start()
        # Everything built so far (schema, models, routes) lives as long as the process: freeze it
        # out of the collector's generations, so a full collection under load walks only what
        # requests allocate (the p99 at 50 connections was ~180 ms for every query, ~12x the mean)
        if freeze_gc:
            gc.collect()
            gc.freeze()

        async def hook(channel: str, payload: dict[str, Any]) -> None:
            await reverify(app.state, channel, payload)

        hub.on_message.append(hook)
        try:
            yield
        finally:
            await hub.stop()
            await limiter.close()
            if app.state.mongo is not None:
                app.state.mongo.close()
            await engine.dispose()

    app = FastAPI(title="Gridcast API", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.engine = engine
    # queries read in autocommit: no BEGIN/ROLLBACK round trips around each SELECT (the profile:
    # three commands per statement); writes (uploads, SIWE) keep transactions through `engine`
    app.state.reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.state.settings = s
    app.state.hub = hub
    app.state.metrics = metrics
    app.state.deployment_id = deployment or deployment_id(s)
    app.state.mongo = MongoMirror(s.mongo_url) if s.mongo_url else None

    extensions: list[Any] = [
        MaxTokensLimiter(MAX_TOKENS),
        # a repeated document is parsed and validated once (the profile: validation was a fifth of
        # a request's time); keyed by the document text and parse options
        ParserCache(maxsize=512),
        ValidationCache(maxsize=512),
        # depth, aliases, field selections and cost in one walk (see cost_rule)
        AddValidationRules([cost_rule(s.max_query_cost, s.max_first, max_depth=s.max_query_depth)]),
        metrics.extension(),
    ]
    extensions.append(MaskInternalErrors(production=s.is_production))
    schema = build_schema(extensions, timeout_s=request_timeout_s)
    if response_cache:
        # answers cached per outbox position the hub has read (see TimedSchema)
        schema.version = lambda: hub.position  # type: ignore[attr-defined]
    app.state.schema = schema

    async def get_context() -> Context:
        return Context(engine, s, app.state)

    router = Router(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if not s.is_production else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        multipart_uploads_enabled=False,
    )
    app.include_router(router, prefix="/graphql")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        text("SELECT block_number FROM indexer_checkpoint WHERE name = 'default'")
                    )
                ).first()
            indexed = int(row[0]) if row else None
        except Exception as exc:  # noqa: BLE001 - not ready, with the reason
            return JSONResponse({"ready": False, "reason": f"database: {exc}"}, 503)
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                r = await client.post(
                    s.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}
                )
                head = int(r.json()["result"], 16)
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"ready": False, "reason": f"rpc: {exc}", "indexed": indexed}, 503)
        body = {"indexed": indexed, "head": head, "maxLag": s.ready_lag_blocks}
        if indexed is None or head - indexed > s.ready_lag_blocks:
            return JSONResponse({"ready": False, **body}, 503)
        return JSONResponse({"ready": True, **body})

    @app.get("/metrics")
    async def prom() -> Response:
        metrics.subscriptions.set(hub.subscribers)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/auth/nonce")
    async def nonce() -> dict[str, str]:
        return {"nonce": await new_nonce(engine)}

    origin = public_origin(s.api_url, s.api_host, s.api_port)

    @app.post("/auth/verify")
    async def verify(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
            message, signature = str(body["message"]), str(body["signature"])
        except (ValueError, KeyError, TypeError):
            return _gql_error(400, "send JSON {message, signature}", "BAD_REQUEST")
        try:
            out = await verify_siwe(
                engine, s.session_secret, s.chain_id, message, signature, origin=origin
            )
        except ApiError as exc:
            return _gql_error(401, exc.message, exc.code)
        return JSONResponse(out)

    from api.web import mount_dashboard

    mount_dashboard(app, s)  # the dashboard at / and its config; after every other route
    app.add_middleware(RateLimit, limiter=limiter, metrics=metrics)  # inside CORS
    app.add_middleware(
        CORSMiddleware, allow_origins=s.cors_origins, allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )  # fmt: skip
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, metrics=metrics)
    return app


def served_app() -> FastAPI:
    """The app `gridcast serve` runs in each worker: create_app with the startup heap frozen out
    of the collector (a long-lived server's; tests build many apps in one process and keep the
    default)."""
    return create_app(freeze_gc=True)
