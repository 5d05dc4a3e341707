from complaint_runtime.migrations import run_env
from intake.db import Base

run_env(Base.metadata)
