"""Per-step Python environments on the user's machine: resolve locks, build and publish archives, with uv.

    lock.py     `flowc lock`: each distinct (python, requirements) of a flow -> an entry of its lock file
    build.py    one locked environment -> a deterministic archive in the datastore, once per platform
    prepare.py  what run, resume and deploy do: lock what is missing, name each step's, publish
    uv.py       running uv (an argv list, never a shell), and its failures as one line

The compiler only reads the lock file (flowc/compiler/environments.py); the
container side only fetches an archive by hash (flowc/runtime/environment.py);
neither needs uv.  Only `flowc lock`, `flowc run` and `flowc deploy` do, and
only they reach a package index.
"""
