"""Check a generated service's runtime contract live, in a compose project of its own.

    python -m kubestep.verify [--project-dir DIR] [--route /status] [--backing postgres]...

Starts the project's containers as <name>-verify on a free 127.0.0.1 port (so a running
`make run_local` is never touched), then checks /health, /ready, /info, /metrics, the JSON
logs, readiness following each backing service, and a graceful stop with a request in flight.
One line per check, then a summary; exit 0 when every check passed, 1 otherwise.
"""
