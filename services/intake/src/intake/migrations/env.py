from complaint_runtime.migrations import run_env
from intake.access import db as _access_tables  # noqa: F401  (registers api_keys)
from intake.complaints import db as _complaint_tables  # noqa: F401  (and the submission tables)
from intake.db import Base

run_env(Base.metadata)
