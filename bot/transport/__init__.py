"""Transports turn platform events into Incoming values and send Outgoing ones."""
