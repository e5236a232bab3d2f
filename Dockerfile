# One image for the API and the workers.  TORCH_SPEC selects the torch build:
#   docker build --build-arg TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" .
FROM python:3.11-slim
ARG TORCH_SPEC="torch==2.13.0"
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 SFTAUDIT_STORAGE__DATA_DIR=/data \
    SFTAUDIT_MODEL_CACHE=/data/models
WORKDIR /app
RUN pip install --no-cache-dir $TORCH_SPEC
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY scorers ./scorers
COPY migrations ./migrations
RUN pip install --no-cache-dir '.[ml]'
VOLUME /data
EXPOSE 8000
CMD ["sftaudit", "serve", "--host", "0.0.0.0", "--workers", "0"]
