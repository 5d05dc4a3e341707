from complaint_runtime.migrations import run_env
from routing.db import Base

run_env(Base.metadata)
