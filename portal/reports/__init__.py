"""Issues and their life: filing (validation, routing, photos), status and history, votes,
search, lists, the public activity stream and the dashboard figures. Announces what happened
(`portal.reports.events`); it never calls the mail, watch or points code that reacts."""
