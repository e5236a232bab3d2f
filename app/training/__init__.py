"""The training engine the job worker calls (see docs/training.md).

Its torch-free contracts — the spec, the plan recommender, chat formatting, reward pairs and the data
checks the API runs before queueing — live in ``app.training_spec``; everything here is engine
code the API process never imports (the torch-heavy modules load only when called).
"""
