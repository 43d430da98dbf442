"""Team-wide settings imported by several compat flows (a helper module, not a flow: the compat
test skips files named compat_*.py).  flowc reads these constants with `ast`; nothing here runs
at compile time."""

TEAM = "ranking"
MEMORY_MB = 2048
TRAIN_CPU = 2
RETRIES = 2
FEATURE_COLUMNS = ["age", "income", "tenure"]
POD = {"cpu": 1, "memory": 1024}
ENV = {"MODEL_FAMILY": "gbm", "LOG_LEVEL": "info"}
VERSION = "1.4"
