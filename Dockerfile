# syntax=docker/dockerfile:1
# Build stage: wheels of the locked dependencies (exact versions, hashes checked) and of Tandem,
# so the runtime image needs no compiler. The base image is pinned by exact tag; refresh it with
# the lock file (`make lock`).
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY storage ./storage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Runtime stage: non-root, SQLite data under /data unless TANDEM_DATABASE_URL says otherwise.
# The try-it channel is off: the image listens on every interface.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PTB_TIMEDELTA=1 \
    TANDEM_HOST=0.0.0.0 \
    TANDEM_TRY_CHANNEL=off \
    TANDEM_PORT=8080 \
    TANDEM_DATABASE_URL=sqlite+aiosqlite:////data/tandem.db
RUN useradd --create-home --uid 10001 tandem && mkdir /data && chown tandem /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --no-deps /wheels/* && rm -rf /wheels
USER tandem
WORKDIR /home/tandem
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4).status == 200 else 1)"
CMD ["tandem", "serve"]
