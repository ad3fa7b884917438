"""`python -m kubestep.verify`: the command line lives in kubestep.verify.cli."""

from kubestep.verify.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
