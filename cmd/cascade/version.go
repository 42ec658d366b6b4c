package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

// versionFlag prints the binary's version (versionString) and exits.
type versionFlag bool

// BeforeReset runs when the flag is given, before any required flag or command is checked, so
// `cascade --version` works alone.
func (versionFlag) BeforeReset(app *kong.Kong) error {
	fmt.Fprintln(app.Stdout, versionString(debug.ReadBuildInfo()))
	app.Exit(0)
	return nil
}

// versionString describes a build from its build information: the main module's version (a
// release tag, a pseudo-version, or "(devel)" for a build from a checkout), the VCS revision and
// commit time when the build stamped them (Go does unless -buildvcs=false), whether the tree had
// local changes, and the Go version.
func versionString(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "cascade (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "revision "+rev[:min(12, len(rev))])
		if at != "" {
			parts = append(parts, at)
		}
		if modified {
			parts = append(parts, "modified")
		}
	} else {
		parts = append(parts, "no VCS revision: built outside a checkout or with -buildvcs=false")
	}
	return fmt.Sprintf("cascade %s (%s) %s", v, strings.Join(parts, ", "), bi.GoVersion)
}
