#!/usr/bin/env bash
# Serve the demo: migrate, seed once, run the outbox SMTP server and the app.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=host_stub FLASK_DEBUG=1 FLASK_DEV_OUTBOX=1
bin=.venv/bin

"$bin/flask" db upgrade
"$bin/flask" seed-demo
"$bin/flask" dev-smtpd --port 8025 &
smtpd=$!
trap 'kill $smtpd 2>/dev/null || true' EXIT INT TERM
echo
echo "ClientFlow demo: http://127.0.0.1:5000/  (outbox: /dev/outbox as the admin)"
"$bin/flask" run --host 127.0.0.1 --port 5000
