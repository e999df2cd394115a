# syntax=docker/dockerfile:1
# A single-stage build that gets most things wrong. Each "# expect:" line
# names the rules that must fire on the next instruction (or, above FROM,
# on the FROM line for rules about the whole final stage).
# expect: BOSUN-DF-006
ARG NPM_TOKEN
# expect: BOSUN-DF-001 BOSUN-DF-011 BOSUN-DF-022
FROM ubuntu
# expect: BOSUN-DF-015
MAINTAINER ops@example.com
# expect: BOSUN-DF-006
ENV DB_PASSWORD=hunter2 APP_ENV=prod
# expect: BOSUN-DF-008 BOSUN-DF-009
RUN apt-get update && apt-get install -y \
      build-essential \
      curl \
      sudo
# expect: BOSUN-DF-019
RUN apt-get update
# expect: BOSUN-DF-007 BOSUN-DF-024
RUN curl -fsSL https://get.example.com/install.sh | bash
# expect: BOSUN-DF-004
ADD https://example.com/tool.tar.gz /opt/
# expect: BOSUN-DF-005
ADD src/ /app/src/
ADD vendor.tar.gz /opt/vendor/
# expect: BOSUN-DF-018
WORKDIR app
# expect: BOSUN-DF-014 BOSUN-DF-010
RUN cd /app/src && sudo make install
# expect: BOSUN-DF-013
RUN pip3 install -r requirements.txt
# expect: BOSUN-DF-020
RUN apt-get install --no-install-recommends git && rm -rf /var/lib/apt/lists/*
# expect: BOSUN-DF-017
EXPOSE 22 8080
CMD ["/app/run"]
# expect: BOSUN-DF-016
CMD ["/app/run", "--verbose"]
USER app
# expect: BOSUN-DF-003
USER root
