//go:build unix

package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A FIFO planted as a bundle's manifest must be refused at once, not block a reload forever.
func TestReadManifestRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mkfifo(filepath.Join(dir, "manifest.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadManifest(dir); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the reader before failing.
		if f, err := os.OpenFile(filepath.Join(dir, "manifest.json"), os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("ReadManifest blocked on a FIFO")
	}
}
