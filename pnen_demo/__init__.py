"""The pnen-cds demo: demo patients, a loopback FHIR R4 development server with a SMART
authorization server, and the `pnen-cds demo` / `pnen-cds fixtures` commands.

A development tool: it may import the service; the service never imports it (only the CLI's
`demo` and `fixtures` subcommands, lazily).
"""
