"""The background queue (Procrastinate on PostgreSQL): the registry tasks are declared on, how a
request enqueues a job in its own transaction, and the worker process that runs them."""
