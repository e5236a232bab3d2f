"""The training contracts, torch-free: what the API may import about training.

* ``spec`` — ``TrainingSpec`` / ``StageSpec``, the validated request (pydantic);
* ``plans`` — ``recommend_plan``: which recipe, and why;
* ``formatting`` — samples → token ids + label mask (tokenizers only), data validation, mask preview;
* ``pairs`` — chosen/rejected pairs for reward training;
* ``checks`` — ``validate_data`` / ``preview_masking``: the data checks run before a job is queued.

The engine (``app.training``) builds on these; nothing here imports torch, transformers' models, peft
or the engine (the import contracts in pyproject.toml check it).
"""

from app.training_spec.spec import StageSpec, TrainingSpec

__all__ = ["StageSpec", "TrainingSpec"]
