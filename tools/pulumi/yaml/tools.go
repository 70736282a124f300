//go:build tools

// Package tools pins the Pulumi YAML language host's main package so that
// `go mod tidy` keeps its requirements in go.mod / go.sum.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
