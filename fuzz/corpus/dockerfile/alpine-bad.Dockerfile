# An Alpine build with the Alpine-specific mistakes.
# expect: BOSUN-DF-002
FROM golang:1.22-alpine AS build
WORKDIR /src
COPY . .
# expect: BOSUN-DF-014
RUN apk add git && cd cmd/server && go build -o /out/server .

# expect: BOSUN-DF-002 BOSUN-DF-022
FROM alpine:3.20 AS runtime
# expect: BOSUN-DF-012
RUN apk add ca-certificates tzdata
# expect: BOSUN-DF-019
RUN apk update
# expect: BOSUN-DF-020 BOSUN-DF-021
RUN yum install httpd
COPY --from=build /out/server /usr/local/bin/server
# expect: BOSUN-DF-023
COPY --from=runtime /etc/passwd /etc/passwd
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/server"]
