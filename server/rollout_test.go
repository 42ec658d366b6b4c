package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The file pointer reads a bundle directory from a regular file or a symlink, and refuses
// anything else without blocking. (The fleet tests in server/fleet follow it on two replicas.)
func TestFilePointer(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "v7")
	os.Mkdir(bundle, 0o755)
	for _, tc := range []struct {
		name    string
		make    func(path string)
		want    string
		wantErr string
	}{
		{"missing: no pointer yet", func(string) {}, "", ""},
		{"a file, whitespace trimmed", func(p string) { os.WriteFile(p, []byte("  v7\n"), 0o644) }, "v7", ""},
		{"an empty file", func(p string) { os.WriteFile(p, nil, 0o644) }, "", ""},
		{"a relative symlink to a directory", func(p string) { os.Symlink("v7", p) }, bundle, ""},
		{"an absolute symlink", func(p string) { os.Symlink(bundle, p) }, bundle, ""},
		{"a FIFO", func(p string) { syscall.Mkfifo(p, 0o644) }, "", "not a regular file"},
		{"a directory", func(p string) { os.Mkdir(p, 0o755) }, "", "not a regular file"},
		{"too long", func(p string) { os.WriteFile(p, []byte(strings.Repeat("x", 5000)), 0o644) }, "", "more than 4 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "current")
			os.RemoveAll(p)
			tc.make(p)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			got, err := filePointer{path: p}.read(ctx)
			if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("read = %q, %v; want %q, error naming %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestRolloutConfigValidated(t *testing.T) {
	for _, tc := range []struct {
		cfg     RolloutConfig
		bundles string
		want    string
	}{
		{RolloutConfig{}, "", ""},
		{RolloutConfig{Pointer: "/shared/current"}, "", "--bundles"},
		{RolloutConfig{Pointer: "/shared/current", Interval: time.Millisecond}, "/b", "below 10 ms"},
		{RolloutConfig{Pointer: "redis://127.0.0.1:6379/0"}, "/b", ""},
	} {
		err := tc.cfg.defaults(tc.bundles)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
		if err == nil && tc.cfg.Pointer != "" && (tc.cfg.Key != "cascade:bundle:current" || tc.cfg.Interval != time.Second || tc.cfg.ReplicaID == "") {
			t.Errorf("defaults not set: %+v", tc.cfg)
		}
	}
}
