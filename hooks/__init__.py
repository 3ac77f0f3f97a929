"""One module per CDS hook; pure functions from a hook request and facts to cards."""
