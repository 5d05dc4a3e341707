from complaint_runtime.migrations import run_env
from notify.deliveries.db import Base

run_env(Base.metadata)
