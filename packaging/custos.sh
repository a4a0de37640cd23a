#!/bin/sh
# /usr/bin/custos: the Custos CLI on the Node.js runtime shipped in /opt/custos (no system Node needed).
# --max-semi-space-size=4 --no-short-builtin-calls: see /opt/custos/bin/custos.js (the flags its shebang passes when
# run from a checkout).
exec /opt/custos/node/bin/node --max-semi-space-size=4 --no-short-builtin-calls /opt/custos/bin/custos.js "$@"
