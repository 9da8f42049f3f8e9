"""Generated data: the demo tenant (``flask --app wsgi demo seed``) and the bulk loader
that builds 10,000 orgs and 100,000 memberships for the benchmarks in seconds."""
