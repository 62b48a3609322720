# One image for every Gridcast service (indexer, api, oracle, streaming, anvil, spark).
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm openjdk-17-jre-headless curl procps \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

COPY pyproject.toml README.md ./
COPY gridcast gridcast
COPY indexer indexer
COPY api api
COPY ml ml
COPY streaming streaming
COPY contracts contracts
COPY scripts scripts
COPY ape-config.yaml ./
RUN pip install --no-cache-dir -e . \
 && python -m gridcast.toolchain register-solc \
 && ape compile

ENV GRIDCAST_STATE_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
ENTRYPOINT ["gridcast"]
CMD ["--help"]
