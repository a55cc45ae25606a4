//go:build tools

// Package tools pins the Node.js language host's main package for `go build`.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
