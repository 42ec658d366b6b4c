package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cascade-rec/cascade/examples"
	"github.com/cascade-rec/cascade/pipeline"
)

// loadConfig reads a pipeline file from disk or, when no such file exists, from the embedded
// examples (so `--config ials.yaml` works anywhere).
func loadConfig(name string) (*pipeline.Config, error) {
	if _, err := os.Stat(name); err == nil {
		return pipeline.LoadConfig(name)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pipeline file: %w", err)
	}
	base := strings.TrimPrefix(filepath.ToSlash(name), "examples/")
	data, err := examples.Files.ReadFile(base)
	if err != nil {
		entries, _ := fs.Glob(examples.Files, "*.yaml")
		return nil, fmt.Errorf("pipeline file %s: no such file, nor an embedded example (embedded: %s)", name, strings.Join(entries, ", "))
	}
	return pipeline.ParseConfig("examples/"+base, data)
}

// cacheDir is where generated synthetic worlds are kept between runs.
func cacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cascade")
	}
	return filepath.Join(os.TempDir(), "cascade-cache")
}
