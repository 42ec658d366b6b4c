package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// factorSource is a listSource with item factors (an ALS-like model).
type factorSource struct {
	listSource
	factors []float32 // 2 wide
}

func (f factorSource) ItemFactors() []float32 { return f.factors }
func (f factorSource) Factors() int           { return 2 }

func TestSimilarByFactors(t *testing.T) {
	// Items on the unit circle at angles 0°, 10°, 90°, 180°, 20°: item 0's cosine neighbours are
	// 1, 4, 2, 3 in that order, whatever the vectors' lengths.
	fs := factorSource{listSource: listSource{items: []int32{0, 1, 2, 3, 4}}, factors: []float32{
		1, 0, 3 * 0.985, 3 * 0.174, 0, 2, -1, 0, 0.5 * 0.940, 0.5 * 0.342,
	}}
	p := stubPipeline(t, "", 0, listSource{}, listSource{}, fs)
	p.numItems = 5
	got, err := p.Similar(context.Background(), 0, 3)
	if err != nil || !slices.Equal(ids(got), []int32{1, 4, 2}) {
		t.Fatalf("similar %v, %v", ids(got), err)
	}
	if _, err := p.Similar(context.Background(), 7, 3); !errors.Is(err, ErrUnknownItem) {
		t.Fatalf("item outside the catalog: %v", err)
	}
	plain := stubPipeline(t, "", 0, listSource{}, listSource{}, listSource{items: []int32{1}})
	if _, err := plain.Similar(context.Background(), 0, 3); !errors.Is(err, ErrNoEmbeddings) {
		t.Fatalf("no embedding model: %v", err)
	}
}
