"""Back end: transport, bootstrap, RPC client, session and item models (no Qt widgets)."""
