from app.db.models import ApiKey, Audit, AuditSample, Base, Dataset, Job, Project, SampleRow
from app.db.session import engine_for, session_factory, session_scope

__all__ = [
    "ApiKey",
    "Audit",
    "AuditSample",
    "Base",
    "Dataset",
    "Job",
    "Project",
    "SampleRow",
    "engine_for",
    "session_factory",
    "session_scope",
]
