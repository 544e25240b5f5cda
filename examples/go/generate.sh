#!/bin/sh
# Regenerates examples/go/gen from proto/ with the official Go plugins, pinned, from the Go module proxy.
set -eu
cd "$(dirname "$0")/../.."
PLUGINS="${BALLAST_GO_PLUGINS:-$HOME/.cache/ballast/go-plugins}"
[ -x "$PLUGINS/protoc-gen-go" ] || GOBIN="$PLUGINS" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6
[ -x "$PLUGINS/protoc-gen-go-grpc" ] || GOBIN="$PLUGINS" go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
PATH="$PLUGINS:$PATH" npx buf generate --template buf.gen.go.yaml
