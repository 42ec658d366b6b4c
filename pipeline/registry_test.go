package pipeline_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/params"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// newestItems is a program-defined candidate source: the catalog's highest IDs first (the most
// recently released items, since dense IDs follow first appearance).
type newestItems struct{ n int }

func (m newestItems) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	dst = dst[:0]
	for it := int32(m.n - 1); it >= 0 && len(dst) < n; it-- {
		if skip == nil || !skip(it) {
			dst = append(dst, candidates.Candidate{Item: it, Score: float32(it)})
		}
	}
	return dst, nil
}

func (m newestItems) Save(path string) (string, error) {
	b := []byte(strconv.Itoa(m.n))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", sha256.Sum256(b)), nil
}

// evenFirst is a program-defined ranker: even item IDs before odd ones (it reads no feature).
type evenFirst struct{}

func (evenFirst) FeatureNames() []string { return nil }
func (evenFirst) Score(_ context.Context, _ candidates.Query, items []int32, _, dst []float32) error {
	for i, it := range items {
		dst[i] = float32(1 - it%2)
	}
	return nil
}
func (evenFirst) Save(path string) (string, error) {
	return fmt.Sprintf("%x", sha256.Sum256(nil)), os.WriteFile(path, nil, 0o644)
}

type newestParams struct {
	Depth int `yaml:"depth"`
}

func (p *newestParams) Validate() error {
	if p.Depth < 0 {
		return params.Errorf("depth", "must be ≥ 0, got %d", p.Depth)
	}
	return nil
}

// A program plugs in its own source and ranker: a pipeline file names them, Train trains them,
// Open loads them, and they serve in the one request path.
func TestRegisteredKindsServe(t *testing.T) {
	err := pipeline.RegisterModel("newest", pipeline.ModelKind{
		Source:    true,
		NewParams: func() any { return &newestParams{} },
		Train: func(_ context.Context, env pipeline.TrainEnv, _ any) (pipeline.Model, error) {
			return newestItems{env.NumItems}, nil
		},
		Load: func(path string) (pipeline.Model, error) {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(string(b))
			return newestItems{n}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RegisterModel("newest", pipeline.ModelKind{NewParams: func() any { return nil }, Train: func(context.Context, pipeline.TrainEnv, any) (pipeline.Model, error) { return nil, nil }, Load: func(string) (pipeline.Model, error) { return nil, nil }}); !errors.Is(err, pipeline.ErrKindExists) {
		t.Fatalf("a second registration of a name: %v", err)
	}
	err = pipeline.RegisterRanker("even-first", pipeline.RankerKind{
		NewParams: func() any { return &struct{}{} },
		Train: func(context.Context, pipeline.RankerEnv, *ranker.Set, *ranker.Set, any) (pipeline.Ranker, error) {
			return evenFirst{}, nil
		},
		Load: func(string) (pipeline.Ranker, error) { return evenFirst{}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	file := `name: plugged
models:
  newest: {type: newest, params: {depth: %d}}
retrieve:
  sources: [{model: newest, k: 20}]
features: {}
ranking_data: {max_requests: 200}
rankers:
  - {name: parity, type: even-first}
final: {k: 10}
`
	if _, err := pipeline.ParseConfig("bad.yaml", fmt.Appendf(nil, file, -1)); err == nil || !strings.Contains(err.Error(), "bad.yaml:3: models.newest.params.depth: must be ≥ 0, got -1") {
		t.Fatalf("a registered kind's validation error: %v", err)
	}
	cfg, err := pipeline.ParseConfig("plugged.yaml", fmt.Appendf(nil, file, 3))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Load("../testdata/world", dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opt := pipeline.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Progress: progress.Options{Disabled: true}}
	if _, err := pipeline.Train(context.Background(), cfg, ds, dir, opt); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.RecommendDense(context.Background(), pipeline.Query{Query: candidates.Query{User: -1, History: []int32{0}}})
	if err != nil {
		t.Fatal(err)
	}
	n := int32(p.NumItems())
	// The newest 20 items, even IDs first, each half newest first.
	var want []int32
	for _, parity := range []int32{0, 1} {
		for it := n - 1; it >= n-20; it-- {
			if (it%2+2)%2 == parity%2 && len(want) < 10 {
				want = append(want, it)
			}
		}
	}
	var got []int32
	for _, c := range res.Items {
		got = append(got, c.Item)
	}
	if !slices.Equal(got, want) || res.Stages[len(res.Stages)-1].Name != "parity" {
		t.Fatalf("items %v, want %v (stages %+v)", got, want, res.Stages)
	}
}
