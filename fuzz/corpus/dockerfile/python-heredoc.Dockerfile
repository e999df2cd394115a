# syntax=docker/dockerfile:1.4
# Heredoc RUN steps are checked like any other.
# expect: BOSUN-DF-002 BOSUN-DF-022
FROM python:3.12-slim
# expect: BOSUN-DF-008 BOSUN-DF-009 BOSUN-DF-013
RUN <<EOF
set -eux
apt-get update
apt-get install -y libpq5
pip install psycopg[binary]==3.2.1
EOF
COPY <<-EOT /etc/app.conf
	listen = 0.0.0.0:8000
	EOT
RUN useradd --uid 10001 app
USER app
CMD ["python", "-m", "app"]
