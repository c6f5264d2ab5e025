"""The chat side: the message pipeline and its middlewares, the router, handlers, transports and reply texts."""
