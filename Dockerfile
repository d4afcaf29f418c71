# The one image behind `kyodo migrate`, `kyodo serve` and `kyodo worker` (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . .
# A regular (non-editable) install: templates, catalogs, migrations and seed data ship inside.
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /var/lib/kyodo --create-home kyodo

# Run as an unprivileged user, away from the sources.
USER kyodo
WORKDIR /var/lib/kyodo
ENV KYODO_VAR_DIR=/var/lib/kyodo
EXPOSE 8000
CMD ["kyodo", "serve"]
