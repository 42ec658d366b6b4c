package dataset

import (
	"path/filepath"
	"testing"
)

// The committed synthetic world (testdata/world) loads through the generic loader with its
// attributes typed as documented.
func TestLoadCommittedWorld(t *testing.T) {
	ds, err := Load(filepath.Join("..", "testdata", "world"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatGeneric || len(ds.Events) != 2000 || ds.NumUsers() != 60 || ds.NumItems() != 80 || !ds.HasValues {
		t.Fatalf("got %v", ds)
	}
	if ds.ItemAttrs.Column("genres") == nil || len(ds.ItemAttrs.Numeric) != 2 || ds.UserAttrs.Column("segment") == nil {
		t.Fatalf("attributes %+v / %+v", ds.ItemAttrs, ds.UserAttrs)
	}
	s := TemporalSplit(ds.Events, 0.9)
	if len(s.Train) == 0 || len(s.Test) == 0 || s.TrainItems > ds.NumItems() {
		t.Fatalf("split %d/%d, %d train items", len(s.Train), len(s.Test), s.TrainItems)
	}
}
