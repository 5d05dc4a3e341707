"""The console's HTTP clients of routing and sla-watch (the only way it reads or changes
cases: it never reads another service's database). Every call carries the signed-in user's
bearer token; every refusal comes back as a domain error (:mod:`.domain.problems`)."""
