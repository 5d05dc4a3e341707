"""The case lifecycle: staff commands, a supervisor's correction, the facts other services
report, and the helpers every use case that moves a case shares."""
