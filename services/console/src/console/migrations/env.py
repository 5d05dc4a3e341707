from complaint_runtime.migrations import run_env
from console.live.db import Base

run_env(Base.metadata)
