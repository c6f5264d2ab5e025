"""Who may see and do what: the one authorization model that chat commands, the console and the API use."""
