"""`python build.py ARGS` does exactly what `handouts ARGS` does."""
from handouts.cli import main

if __name__ == "__main__":
    main(prog_name="handouts")
