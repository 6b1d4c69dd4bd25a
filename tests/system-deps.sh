#!/usr/bin/env bash
# System packages the tests need beyond pyproject.toml, from Debian's packages:
# - newsboat: the real feed reader that tests/test_newsboat.py drives against `feedbot serve`;
# - chromium: the headless browser of render = "browser" and of the preview page's browser tests
#   (Playwright for Python drives it; it never downloads a browser of its own);
# - fonts-wqy-microhei: a CJK font, so that the preview screenshot of the (Chinese) example digest
#   shows its characters.
# Installs what is missing with apt-get (Debian/Ubuntu), through sudo only when not already root.
# Safe to run again: it does nothing when everything is present.
set -euo pipefail

missing=()
command -v newsboat >/dev/null 2>&1 || missing+=(newsboat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# any CJK font will do (it has Latin letters too: chromium only recommends a font package)
if ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh family | grep -q .; } &&
    ! dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'install ok installed'; then
    missing+=(fonts-wqy-microhei)
fi

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
echo "tests/system-deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v newsboat >/dev/null
command -v chromium >/dev/null
