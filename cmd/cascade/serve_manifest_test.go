package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/examples"
	"github.com/cascade-rec/cascade/pipeline"
)

// serve without --config takes the pipeline file recorded in the bundle's manifest.json.
func TestServePipelineFileFromManifest(t *testing.T) {
	ials, err := examples.Files.ReadFile("ials.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bundle := func(config string) string {
		dir := t.TempDir()
		b, _ := json.Marshal(map[string]any{"format": pipeline.ManifestFormat, "config": config})
		os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
		return dir
	}
	g := &Globals{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	withPath := strings.Replace(string(ials), `path: ""`, `path: ../data/ml-100k`, 1)
	if withPath == string(ials) {
		t.Fatal("ials.yaml has no empty dataset.path to replace")
	}
	for _, c := range []struct {
		name     string
		cmd      serveCmd
		wantName string
		wantErr  string
	}{
		{"from the manifest", serveCmd{Models: bundle(string(ials))}, "ials", ""},
		{"--config wins", serveCmd{Config: "popularity.yaml", Models: bundle(string(ials))}, "popularity", ""},
		{"relative data path with --data", serveCmd{Models: bundle(withPath), Data: "/data/ml-100k"}, "ials", ""},
		{"relative data path without --data", serveCmd{Models: bundle(withPath)}, "", `names dataset.path "../data/ml-100k" relative to where the file was: give --data`},
		{"no config recorded", serveCmd{Models: bundle("")}, "", "records no pipeline file (field config): give --config"},
		{"bad config recorded", serveCmd{Models: bundle("name: x\nmodels: {}\nbogus: 1\n")}, "", "manifest.json (config)"},
		{"no bundle", serveCmd{Models: t.TempDir()}, "", "serve without --config: model bundle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := c.cmd.pipelineFile(g)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || cfg.Name != c.wantName {
				t.Fatalf("%v %v", cfg, err)
			}
		})
	}
}
