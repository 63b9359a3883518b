"""The administrator's tools: every user's generations (`generations`), the accounts (`users`),
and the one object the Admin page holds (`console`). Every call refuses a non-administrator."""
