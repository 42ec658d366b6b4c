// Package examples holds Cascade's ready pipeline files. They are embedded in the binary so that
// `cascade demo` and `--config NAME.yaml` work without a checkout.
package examples

import "embed"

// Files holds every *.yaml pipeline file of this directory.
//
//go:embed *.yaml
var Files embed.FS
