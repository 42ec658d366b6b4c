package imported_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
)

// benchModel imports n random 64-wide item vectors from .npy (the catalog is all of them).
func benchModel(b *testing.B, n int) (*imported.Model, imported.Params, imported.Catalog) {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	ids := make([]string, n)
	items := dataset.NewDict()
	for i := range ids {
		ids[i] = strconv.Itoa(i)
		items.Add(ids[i])
	}
	v := randomVectors(rng, ids, 64)
	p := imported.DefaultParams()
	p.Format, p.Items, p.ItemIDs = imported.FormatNPY, filepath.Join(dir, "items.npy"), filepath.Join(dir, "ids.txt")
	writeNPY32(b, p.Items, v.vecs)
	writeIDs(b, p.ItemIDs, ids)
	cat := imported.Catalog{Items: items, NumItems: n, Users: dataset.NewDict()}
	m, err := imported.Train(context.Background(), p, cat)
	if err != nil {
		b.Fatal(err)
	}
	return m, p, cat
}

// Reading, validating and aligning 200K×64 float32 item vectors (the Gramian included).
func BenchmarkTrainNPY200K(b *testing.B) {
	_, p, cat := benchModel(b, 200_000)
	b.ResetTimer()
	for range b.N {
		if _, err := imported.Train(context.Background(), p, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// One request: fold in a 50-item history and scan 100K items for the top 500.
func BenchmarkRecommend100K(b *testing.B) {
	m, _, _ := benchModel(b, 100_000)
	ctx := context.Background()
	history := make([]int32, 50)
	for i := range history {
		history[i] = int32(i * 1999 % 100_000)
	}
	for _, fold := range []string{imported.FoldMean, imported.FoldALS} {
		p := m.Params()
		p.Fold = fold
		s, err := m.WithServing(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fold, func(b *testing.B) {
			dst := make([]candidates.Candidate, 0, 500)
			b.ReportAllocs()
			for range b.N {
				dst, _ = s.Recommend(ctx, candidates.Query{User: -1, History: history}, 500, nil, dst)
			}
		})
	}
}
