package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
			Settings: settings("vcs", "git", "vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-11-30T10:00:00Z", "vcs.modified", "false")},
			true, "cascade v1.4.0 (revision 0123456789ab, 2026-11-30T10:00:00Z) go1.26.8"},
		{"checkout with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261130100000-0123456789ab+dirty"},
			Settings: settings("vcs.revision", "0123456789abcdef", "vcs.time", "2026-11-30T10:00:00Z", "vcs.modified", "true")},
			true, "cascade v0.0.0-20261130100000-0123456789ab+dirty (revision 0123456789ab, 2026-11-30T10:00:00Z, modified) go1.26.8"},
		{"no vcs stamp", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			true, "cascade (devel) (no VCS revision: built outside a checkout or with -buildvcs=false) go1.26.8"},
		{"empty version", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, "cascade (devel) (no VCS revision: built outside a checkout or with -buildvcs=false) go1.26.8"},
		{"no build info", nil, false, "cascade (no build information)"},
	} {
		if got := versionString(c.bi, c.ok); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// `cascade --version` prints the version alone, without a command, and exits 0.
func TestVersionFlag(t *testing.T) {
	out, errs, code := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "cascade ") || !strings.Contains(out, "go1.") || errs != "" {
		t.Fatalf("--version: %d %q %q", code, out, errs)
	}
}

// --help exits through the same path: run returns 0 with the usage on stdout.
func TestHelpExitsZero(t *testing.T) {
	out, _, code := runCLI(t, "train", "--help")
	if code != 0 || !strings.Contains(out, "Usage: cascade train") || !strings.Contains(out, "--protocol") || !strings.Contains(out, "--skip-malformed") {
		t.Fatalf("train --help: %d\n%s", code, out)
	}
}
