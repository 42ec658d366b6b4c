package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// pinnedFirstStage is a small first stage for TestRankingSetPinned: two sources and features.
const pinnedFirstStage = `name: pinned
models: {ials: {type: ials, params: {factors: 8, alpha: 2, reg: 3, iterations: 4, solver: cg}}, pop: {type: popularity}}
retrieve: {sources: [{model: ials, k: 20}, {model: pop, k: 10}]}
features: {}
final: {k: 10}
`

// TestRankingSetPinned: the ranking data the pipeline builds on the committed world stays
// bit-identical (same requests, random draws, features and order). The checksums were taken
// before the builder moved to package ranker, and retaken when iALS's AVX2 row kernels changed
// its floating-point order (the same requests, other score bits); a deliberate change to the data
// must update them.
func TestRankingSetPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the checksums were taken on amd64 (other architectures may fuse multiply-adds)")
	}
	ds, err := dataset.Load(filepath.Join("..", "testdata", "world"), dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every part of the builder: a horizon, the per-user and request caps, random negatives
	// (each worker draws from its own stream, so the worker count is part of the case).
	const everything = "ranking_data: {horizon_days: 2, max_requests_per_user: 4, max_requests: 40, negatives: 6, random_negatives: 0.5, seed: 3}\n"
	cases := []struct {
		name, rankingData string
		workers           int
		want              string
	}{
		{"defaults", "", 2, "7a2da793ad9c9ad5c760aad2157fbc0505a4a05eb9d36eebf4eb6a25523155da"},
		{"everything/1", everything, 1, "4540e5ed6b3db84cf8cbbde70029c5da4ef817c29363202de8dfec3bd262167b"},
		{"everything/3", everything, 3, "3553e58e11a52c02659ff340465a075b1aa80c5130e3a86508fd58c6726bff41"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("pinned.yaml", []byte(pinnedFirstStage+c.rankingData))
			if err != nil {
				t.Fatal(err)
			}
			var set *ranker.Set
			opt := Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: c.workers, OnlyRankingData: true,
				RankingData: func(s *ranker.Set) error { set = s; return nil }}
			if _, err := Train(context.Background(), cfg, ds, t.TempDir(), opt); err != nil {
				t.Fatal(err)
			}
			if err := set.Validate(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d requests, stats %+v", len(set.Requests), set.Stats)
			if got := setChecksum(set); got != c.want {
				t.Errorf("ranking set checksum %s, want %s", got, c.want)
			}
		})
	}
}

// setChecksum hashes everything a ranking set holds, floats by their bits.
func setChecksum(s *ranker.Set) string {
	h := sha256.New()
	put := func(vs ...int64) {
		for _, v := range vs {
			binary.Write(h, binary.LittleEndian, v)
		}
	}
	for _, n := range s.FeatureNames {
		put(int64(len(n)))
		h.Write([]byte(n))
	}
	put(int64(s.Stats.Events), int64(s.Stats.Requests), int64(s.Stats.WithTarget), int64(s.Stats.WithPositive), int64(len(s.Requests)))
	for _, r := range s.Requests {
		put(int64(r.User), r.Time, int64(r.Target), int64(r.Proposed), int64(len(r.History)), int64(len(r.Items)), int64(len(r.Dense)))
		binary.Write(h, binary.LittleEndian, r.History)
		binary.Write(h, binary.LittleEndian, r.Items)
		for _, v := range r.Labels {
			put(int64(math.Float32bits(v)))
		}
		for _, v := range r.Dense {
			put(int64(math.Float32bits(v)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
