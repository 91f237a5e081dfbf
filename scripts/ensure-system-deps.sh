#!/usr/bin/env bash
# Install the system packages the test suite needs, only when they are missing.
#
#   scripts/ensure-system-deps.sh [COMPONENT...]
#
# Components (default: postgresql chromium):
#   postgresql   PostgreSQL server binaries (initdb, pg_ctl) and contrib (pg_trgm, unaccent),
#                used by scripts/testenv.py for a throwaway cluster
#   chromium     /usr/bin/chromium for the browser (Playwright) tests
#   make         GNU make, for the Makefile entry points
#   python-venv  ensurepip for `python3 -m venv` (Debian's python3-venv)
#   nginx        the reverse proxy in front of the cluster rig (scripts/cluster.py)
#   pgbouncer    the connection pooler the cluster tests put in front of PostgreSQL
#                (api/tests/cluster/test_pooler.py)
#
# Debian/Ubuntu (apt) only. Runs `apt-get update` only when something is missing,
# uses sudo only when not root. Fast and silent when everything is there.
set -euo pipefail

components=("$@")
if [ ${#components[@]} -eq 0 ]; then
    components=(postgresql chromium)
fi

have_postgresql() {
    local initdb bindir version
    initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
    [ -x "$initdb" ] || return 1
    bindir=$(dirname "$initdb")
    version=$(basename "$(dirname "$bindir")")
    [ -x "$bindir/pg_ctl" ] && [ -x "$bindir/psql" ] &&
        [ -f "/usr/share/postgresql/$version/extension/pg_trgm.control" ] &&
        [ -f "/usr/share/postgresql/$version/extension/unaccent.control" ]
}

missing=()
for component in "${components[@]}"; do
    case "$component" in
        postgresql) have_postgresql || missing+=(postgresql postgresql-contrib) ;;
        chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
        make) command -v make >/dev/null 2>&1 || missing+=(make) ;;
        nginx) [ -x /usr/sbin/nginx ] || missing+=(nginx) ;;
        pgbouncer) [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer) ;;
        python-venv)
            "${PYTHON:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1 ||
                missing+=("python3-venv")
            ;;
        *)
            echo "ensure-system-deps: unknown component '$component'" >&2
            exit 2
            ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-system-deps: missing ${missing[*]} and no apt-get here; install them yourself" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "ensure-system-deps: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
fi

echo "ensure-system-deps: installing ${missing[*]} (apt)"
started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
echo "ensure-system-deps: installed ${missing[*]} in $((SECONDS - started))s"

# Check the result, so a wrong package name fails here and not deep in a test run.
for component in "${components[@]}"; do
    case "$component" in
        postgresql) have_postgresql || { echo "ensure-system-deps: PostgreSQL still missing" >&2; exit 1; } ;;
        chromium) [ -x /usr/bin/chromium ] || { echo "ensure-system-deps: /usr/bin/chromium still missing" >&2; exit 1; } ;;
        nginx) [ -x /usr/sbin/nginx ] || { echo "ensure-system-deps: /usr/sbin/nginx still missing" >&2; exit 1; } ;;
        pgbouncer) [ -x /usr/sbin/pgbouncer ] || { echo "ensure-system-deps: /usr/sbin/pgbouncer still missing" >&2; exit 1; } ;;
        *) ;;
    esac
done
