from complaint_runtime.migrations import run_env
from sla_watch.calendars import db as _calendar_tables  # noqa: F401 (registers the tables)
from sla_watch.db import Base
from sla_watch.policies import db as _policy_tables  # noqa: F401 (registers the tables)
from sla_watch.recompute import db as _job_tables  # noqa: F401 (registers the tables)

run_env(Base.metadata)
