"""``python -m extractor``: the same entry point as the ``incidents`` console script."""

from .cli import main

if __name__ == "__main__":
    main()
