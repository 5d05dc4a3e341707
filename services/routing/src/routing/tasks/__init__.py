"""Work items on a case for staff beyond the case's own state: review tasks for a team lead
after a reopen (later issues add follow-up calls), listed, assigned and completed."""
