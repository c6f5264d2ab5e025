"""The roof: the `xiaoqi` command (setup, demo, chat, simulate, run, serve) and the wiring that builds the app for each."""
