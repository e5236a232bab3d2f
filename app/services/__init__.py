"""Services: what a route or a job handler asks of the application, in one transaction each (the store is app/db)."""
