package replay

import (
	"context"
	"reflect"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/progress"
)

// twoStages answers with a long and a short stage list, the final list being the long one.
type twoStages struct{ long, short int }

func (s twoStages) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (Response, error) {
	long, _ := fixed{order: []int32{0, 1, 2, 3, 4}}.Recommend(ctx, q, s.long, skip, nil)
	short, _ := fixed{order: []int32{4, 3, 2, 1, 0}}.Recommend(ctx, q, s.short, skip, nil)
	return Response{Items: long, Stages: []Stage{{Name: "long", Items: long}, {Name: "short", Items: short}}}, nil
}

// StageMaxItems is the longest list a stage returned over the counted steps: the seen items
// shorten some steps' lists (tiny's user 3 has seen 0 and 3 at its last step).
func TestStageMaxItems(t *testing.T) {
	rep, err := Run(context.Background(), tiny(), twoStages{long: 5, short: 1}, Options{Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"long": 4, "short": 1}; !reflect.DeepEqual(rep.StageMaxItems, want) {
		t.Errorf("StageMaxItems = %v, want %v", rep.StageMaxItems, want)
	}
}
