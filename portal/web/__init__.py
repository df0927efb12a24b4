"""HTTP plumbing shared by routes and widgets: templating, request context, CSRF, CSP, rate
limits, formatting for pages, Markdown, the static build."""
