"""ClientFlow: clients, billing and the sales pipeline of an agency."""

__version__ = "0.1.0"

PLUGIN_NAME = "clientflow"
