# Sourced by the scripts: `need COMMAND PACKAGE` installs Debian's PACKAGE when COMMAND is not on
# PATH, so that a script works on a fresh Debian 12 machine without steps of its own.
need() {
    command -v "$1" >/dev/null 2>&1 && return
    echo "$(basename "$0"): installing Debian's $2 (for $1)" >&2
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}
