"""The ground every package stands on: settings, database, errors, languages, geometry, signing,
and the domain-event bus. Imports nothing else of ours."""
