"""The contract both sides read: names the compiler, runtime, local runner and deployers share.

Standard library only, and imports nothing else of flowc: the decorator table,
the runtime command's flags and exit codes, datastore layout keys, task-id
rules, the graph derivation and the fixed bootstrap text.
"""
