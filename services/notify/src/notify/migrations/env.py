from complaint_runtime.migrations import run_env
from notify.db import Base

run_env(Base.metadata)
