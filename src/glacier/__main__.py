"""``python -m glacier``: the ``glacier`` command."""

from glacier.cli import main

if __name__ == "__main__":
    main()
