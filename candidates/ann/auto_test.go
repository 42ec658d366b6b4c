package ann

import (
	"encoding/json"
	"testing"

	"github.com/cascade-rec/cascade/candidates/ann/internal/vecgen"
)

func TestBuild(t *testing.T) {
	c := vecgen.NewClusters(30, 16, 0.35, 41)
	vecs := c.Sample(4000, 42)
	for _, tc := range []struct {
		name     string
		opts     BuildOptions
		wantKind string
	}{
		{"below threshold", BuildOptions{}, "exact"},
		{"above threshold", BuildOptions{ExactThreshold: 1000, HNSW: HNSWOptions{M: 8, EfConstruction: 64, EfSearch: 16}, RecallK: 20}, "hnsw"},
		{"given queries", BuildOptions{ExactThreshold: -1, HNSW: HNSWOptions{M: 8, EfConstruction: 64}, RecallQueries: c.Sample(50, 43)}, "hnsw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, rep, err := Build(vecs, 16, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != tc.wantKind || idx.Len() != 4000 || rep.Len != 4000 || rep.Dim != 16 {
				t.Fatalf("report %+v, Len %d", rep, idx.Len())
			}
			switch idx.(type) {
			case *Exact:
				if rep.Kind != "exact" || rep.Recall != 1 {
					t.Errorf("exact report %+v", rep)
				}
			case *HNSW:
				if rep.Recall < 0.8 || rep.Recall > 1 || rep.RecallQueries == 0 || rep.EfSearch == 0 {
					t.Errorf("hnsw report %+v", rep)
				}
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", rep)
		})
	}
}

func TestBuildTargetRecall(t *testing.T) {
	vecs := vecgen.Uniform(3000, 24, 51)
	opts := BuildOptions{ExactThreshold: -1, RecallK: 50, TargetRecall: 0.99,
		HNSW: HNSWOptions{M: 4, EfConstruction: 20, EfSearch: 8, Workers: 1}}
	_, rep, err := Build(vecs, 24, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.EfSearch <= 8 || (rep.Recall < 0.99 && rep.EfSearch < 3000) {
		t.Errorf("target recall not pursued: %+v", rep)
	}
	t.Logf("%+v", rep)
}

func TestBuildErrors(t *testing.T) {
	if _, _, err := Build(make([]float32, 5), 2, BuildOptions{}); err == nil {
		t.Error("ragged vectors accepted")
	}
	if _, _, err := Build(make([]float32, 8), 2, BuildOptions{ExactThreshold: -1, RecallQueries: make([]float32, 3)}); err == nil {
		t.Error("ragged recall queries accepted")
	}
}
