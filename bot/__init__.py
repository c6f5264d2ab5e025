"""The chat side of Xiaoqi: values, router, handlers, transports and the application."""
