"""The client logic, sans-I/O: the session's life-cycle, every operation
written once, the TreeCache mirror and the steps helpers are written in. No
sockets and no threads of its own."""
