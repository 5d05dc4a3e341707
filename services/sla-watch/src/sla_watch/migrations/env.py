from complaint_runtime.migrations import run_env
from sla_watch.db import Base

run_env(Base.metadata)
