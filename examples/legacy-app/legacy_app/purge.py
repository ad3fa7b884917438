"""Cron job: delete orders older than [purge] max_age_days (see deploy/legacy-app.cron).

python -m legacy_app.purge [--max-age-days N]
"""

import argparse
import logging
import sys

from legacy_app import cache, db
from legacy_app.config import load_config

log = logging.getLogger("legacy_app.purge")


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = load_config()
    parser = argparse.ArgumentParser(prog="python -m legacy_app.purge")
    parser.add_argument("--max-age-days", type=int, default=cfg.purge_max_age_days)
    args = parser.parse_args(argv)

    deleted = db.purge_older_than(cfg, args.max_age_days)
    log.info("purged %d order(s) older than %d day(s)", deleted, args.max_age_days)
    if deleted:
        try:
            cache.invalidate_count(cfg)
        except Exception as exc:
            log.warning("could not invalidate the cached count: %s", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
