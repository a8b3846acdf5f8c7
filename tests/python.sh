# Sourced by the test libraries once $T exists: Debian's own python3 comes first on PATH for
# the test and everything it starts. A version manager's shim in front of it (pyenv's, on the
# CI machines) costs ~0.4 s a call against ~0.05 s, and the suites call python3 hundreds of
# times to read `kith ... --json`.
if [ -x /usr/bin/python3 ]; then
    mkdir -p "$T/bin"
    ln -sf /usr/bin/python3 "$T/bin/python3"
    PATH="$T/bin:$PATH"
    export PATH
fi
