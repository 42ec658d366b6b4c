# A static cascade binary in a distroless image, running as non-root.
#   docker build -t cascade .
#   docker run --rm -p 8080:8080 -v $PWD/models:/models:ro -v $PWD/data:/data:ro cascade \
#       serve --data /data --models /models --addr :8080 --state /state
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/cascade ./cmd/cascade

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cascade /cascade
# The history log and the served log (--state) need a writable directory owned by the user.
WORKDIR /state
USER nonroot:nonroot
EXPOSE 8080 9090
ENTRYPOINT ["/cascade"]
CMD ["--help"]
