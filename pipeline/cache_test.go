package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// A second training of the same file with the cache trains nothing, and the bundle it writes is
// the first one's, artifact for artifact; a changed parameter misses.
func TestModelCacheTrainsOnce(t *testing.T) {
	ds, err := dataset.Load("../testdata/world", dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	file := func(factors int) *Config {
		cfg, err := ParseConfig("cache.yaml", fmt.Appendf(nil, "name: cache\n%s", fmt.Sprintf(testPipelineBody, factors)))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cache, err := OpenModelCache(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Progress: progress.Options{Disabled: true}, Logger: quiet, Cache: cache}
	a, b := t.TempDir(), t.TempDir()
	manA, err := Train(context.Background(), file(8), ds, a, opt)
	if err != nil {
		t.Fatal(err)
	}
	hits, misses := cache.Stats()
	if hits != 0 || misses == 0 {
		t.Fatalf("first run: %d hits, %d misses", hits, misses)
	}
	manB, err := Train(context.Background(), file(8), ds, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if h, m := cache.Stats(); m != misses || h != misses {
		t.Fatalf("second run trained again: %d hits, %d misses (first run %d misses)", h, m, misses)
	}
	for name, e := range manA.Models {
		f := manB.Models[name]
		if f == nil || f.SHA256 != e.SHA256 || !f.Cached || e.Cached {
			t.Fatalf("model %s: first %+v, second %+v", name, e, f)
		}
		for i := range e.Trials {
			if f.Trials[i].Metrics["ndcg@10"] != e.Trials[i].Metrics["ndcg@10"] || !f.Trials[i].Cached {
				t.Fatalf("trial %d of %s differs or was trained: %+v vs %+v", i, name, f.Trials[i], e.Trials[i])
			}
		}
		ra, _ := os.ReadFile(filepath.Join(a, e.Artifact))
		rb, _ := os.ReadFile(filepath.Join(b, f.Artifact))
		if string(ra) != string(rb) {
			t.Fatalf("artifact %s differs", e.Artifact)
		}
	}
	if _, err := Train(context.Background(), file(12), ds, t.TempDir(), opt); err != nil {
		t.Fatal(err)
	}
	if _, m := cache.Stats(); m == misses {
		t.Fatal("a changed parameter hit the cache")
	}
}

const testPipelineBody = `models:
  pop: {type: popularity}
  ials:
    type: ials
    params: {factors: %d, alpha: [1, 16], iterations: 4, solver: cg}
retrieve:
  sources: [{model: ials, k: 50}, {model: pop, k: 10}]
final: {k: 20}
`
