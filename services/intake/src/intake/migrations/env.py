from complaint_runtime.migrations import run_env
from intake.access import db as _access_tables  # noqa: F401  (registers api_keys)
from intake.complaints import db as _complaint_tables  # noqa: F401  (and the submission tables)
from intake.db import Base
from intake.recovery import db as _recovery_tables  # noqa: F401  (tracking_codes)

run_env(Base.metadata)
