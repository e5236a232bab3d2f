"""The training engine the job worker calls (see docs/training.md).

Importing this package is cheap and torch-free, so the API process can use the spec and the plan
recommender; the torch-heavy modules (runner, loop, model, data, reward) load only when called.
"""

from app.training.spec import StageSpec, TrainingSpec

__all__ = ["StageSpec", "TrainingSpec"]
