"""The local side: `flowc run` / `flowc resume` schedule a flow on local processes (runner.py)."""
