"""The drivers: they carry out the session's actions on sockets (one I/O
thread per client) or on an asyncio loop, and decide nothing themselves."""
