# Kartoteka: one image for every role (migrate, ingest, api, workers).
# The role is chosen by the command, e.g. `kartoteka serve api`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KARTOTEKA_DATA_DIR=/var/lib/kartoteka \
    KARTOTEKA_HOST=0.0.0.0

# audit/: the anchor file's folder, shared by the anchor and api containers
# (docker-compose.yml); a named volume mounted on it starts with this owner.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/kartoteka \
        --create-home --shell /usr/sbin/nologin kartoteka \
 && install -d -o kartoteka -g kartoteka /var/lib/kartoteka/audit

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so a code change does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-cache-dir . \
 && rm -rf build *.egg-info

USER kartoteka
WORKDIR /var/lib/kartoteka
EXPOSE 8000 8001
CMD ["kartoteka", "--help"]
