"""The HTTP API: routes (thin: parse, authorise, call a service, return a schema), schemas, dependencies."""
