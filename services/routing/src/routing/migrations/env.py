from complaint_runtime.migrations import run_env
from routing.assignment import db as _assignment_tables  # noqa: F401 (registers the tables)
from routing.canned_replies import db as _canned_reply_tables  # noqa: F401 (registers the tables)
from routing.casefile import db as _case_file_tables  # noqa: F401 (registers the tables)
from routing.categories import db as _category_tables  # noqa: F401 (registers the tables)
from routing.db import Base
from routing.duplicates import db as _index_tables  # noqa: F401 (registers the tables)
from routing.tasks import db as _task_tables  # noqa: F401 (registers the tables)
from routing.triage import db as _streak_tables  # noqa: F401 (registers the tables)

run_env(Base.metadata)
