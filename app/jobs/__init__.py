"""The worker: claims jobs from the queue (app/db/queue.py) and runs their handlers; audit, curation, training and purge jobs."""
