"""Quality labels of samples: parsing label files (the database side is app.services.labels)."""
