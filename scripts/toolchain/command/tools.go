//go:build tools

// Package tools pins the Pulumi command provider's main package for `go build`.
package tools

import _ "github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command"
