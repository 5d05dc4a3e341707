"""What the delivery loop talks to: the channel a message leaves by (SMTP or the log) and the
other services' internal APIs."""
