"""The sync client (`pykeeper.ZooKeeper`) and what both clients share:
settings, states and listeners, caches, watch helpers, TreeCache fronts,
transactions."""
