#!/usr/bin/env bash
# System packages the tests need beyond pyproject.toml, from Debian's packages:
# - newsboat: the real feed reader that tests/test_newsboat.py drives against `feedbot serve`;
# - chromium: the headless browser of render = "browser" and of the preview page's browser tests
#   (Playwright for Python drives it; it never downloads a browser of its own);
# - fonts-wqy-microhei: a CJK font, so that the preview screenshot of the (Chinese) example digest
#   shows its characters;
# - postgresql, the real database server that the PostgreSQL state tests start themselves
#   (tests/pg.py runs initdb and pg_ctl from /usr/lib/postgresql/*/bin in a temporary folder,
#   on 127.0.0.1 only). Debian's package would also create and start a cluster of its own, which
#   the tests never use: when we install it, we tell postgresql-common not to create one.
# Installs what is missing with apt-get (Debian/Ubuntu), through sudo only when not already root.
# Safe to run again: it does nothing when everything is present.
set -euo pipefail

have_postgres() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

missing=()
command -v newsboat >/dev/null 2>&1 || missing+=(newsboat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# any CJK font will do (it has Latin letters too: chromium only recommends a font package)
if ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh family | grep -q .; } &&
    ! dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'install ok installed'; then
    missing+=(fonts-wqy-microhei)
fi
have_postgres || missing+=(postgresql)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/system-deps.sh: missing ${missing[*]} and no apt-get here; install ${missing[*]} with your package manager" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
echo "tests/system-deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
command -v newsboat >/dev/null
command -v chromium >/dev/null
have_postgres
