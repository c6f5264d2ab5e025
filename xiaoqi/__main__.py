"""`python -m xiaoqi` runs the command line."""

from xiaoqi.cli import main

main()
