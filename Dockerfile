# syntax=docker/dockerfile:1
# Two stages: wheels are built (llama.cpp compiles) with a toolchain that the runtime image lacks.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-queue.txt /tmp/
# GGML_NATIVE=OFF: the image must run on CPUs other than the build machine's.
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel --no-cache-dir --wheel-dir /wheels -r /tmp/requirements.txt \
 && pip wheel --no-cache-dir --wheel-dir /wheels -r /tmp/requirements-queue.txt

FROM python:3.11-slim-bookworm
# espeak-ng speaks every language offline; lame encodes MP3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng lame libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 atelier
COPY --from=build /wheels /wheels
COPY requirements.txt requirements-queue.txt /tmp/
# Two runs, as in the Makefile: celery's click and gTTS's cannot be resolved together.
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements-queue.txt \
 && rm -rf /wheels
WORKDIR /app
COPY --chown=atelier:atelier . .
USER atelier
ENV DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/healthz', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
