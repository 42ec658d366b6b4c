package pipeline

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// livePipeline is a small full stack whose first stage includes the two-tower, so that items added
// live reach the features and the rankers.
const livePipeline = `name: live-test
models:
  twotower:
    type: twotower
    params: {dim: 8, hidden: [[16]], history_len: 10, attr_dim: 4, context_dim: 2, epochs: 1, id_dropout: 0.3, validation_fraction: 0}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: twotower, k: 100}
    - {model: pop, k: 30}
features: {}
rankers:
  - {name: lightgbm, type: lightgbm, params: {trees: 10, min_data_in_leaf: 20}}
ranking_data: {max_requests: 300, negatives: 20}
final: {k: 50}
`

// liveBundle trains livePipeline once per test binary.
var liveBundle = sync.OnceValues(func() (string, error) {
	ds, err := smallWorld()
	if err != nil {
		return "", err
	}
	cfg, err := ParseConfig("live.yaml", []byte(livePipeline))
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "cascade-live-test-")
	if err != nil {
		return "", err
	}
	_, err = Train(context.Background(), cfg, ds, dir, Options{Progress: progress.Options{Disabled: true}, Logger: quiet})
	return dir, err
})

func openLive(t *testing.T) (*Pipeline, *dataset.Dataset) {
	t.Helper()
	ds := world(t)
	dir, err := liveBundle()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("live.yaml", []byte(livePipeline))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	return p, ds
}

func itemIDs(resp Response) []string {
	var out []string
	for _, it := range resp.Items {
		out = append(out, it.ItemID)
	}
	return out
}

// TestLivingCatalog: an item added with attributes is embedded by the item tower and goes through
// retrieval, features and the ranker (IDs past every model's catalog); a removed item leaves
// personal, fallback and degraded answers alike; a second bundle sharing the catalog gets both.
func TestLivingCatalog(t *testing.T) {
	p, ds := openLive(t)
	ctx := context.Background()
	genres := ds.ItemAttrs.Column("genres")
	if genres == nil {
		t.Fatal("the test world has no genres column")
	}
	news := []CatalogItem{
		{ID: "new-1", Available: true, Attrs: dataset.AttrValues{Categorical: map[string][]string{"genres": {genres.Dict.String(0)}}, Numeric: map[string]float64{"year": 2020, "price": 9.5}}},
		{ID: "new-2", Available: true, Attrs: dataset.AttrValues{Categorical: map[string][]string{"genres": {genres.Dict.String(1), "a-genre-never-seen"}}}},
	}
	if err := p.UpsertItems(ctx, news); err != nil {
		t.Fatal(err)
	}
	cat := p.Catalog()
	n1, ok := cat.Lookup("new-1")
	if !ok || int(n1) < ds.Items.Len() || cat.String(n1) != "new-1" {
		t.Fatalf("new-1 → %d, %v", n1, ok)
	}
	// Leave only the live items to retrieve: they must come out of every stage, ranked.
	hist := []int32{1, 2, 3}
	onlyLive := func(id int32) bool { return int(id) < ds.Items.Len() }
	res, err := p.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: hist, Time: ds.Events[len(ds.Events)-1].Time}, Skip: onlyLive})
	if err != nil || res.Degraded || res.Fallback {
		t.Fatalf("err %v, degraded %v (%s), fallback %v", err, res.Degraded, res.Reason, res.Fallback)
	}
	if got := len(res.Items); got != 2 {
		t.Fatalf("%d items, want the 2 live ones: %+v", got, res.Items)
	}
	for _, st := range res.Stages {
		if st.Fallback {
			t.Errorf("stage %s fell back: %s", st.Name, st.Err)
		}
	}
	// A live item in the history: ignored by the models that do not know it, seen by the filter.
	withLive, err := p.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: append(slices.Clone(hist), n1), Time: ds.Events[len(ds.Events)-1].Time}, Skip: onlyLive, Explain: true})
	if err != nil || withLive.Degraded || len(withLive.Items) != 1 || cat.String(withLive.Items[0].Item) != "new-2" {
		t.Fatalf("history with a live item: %+v, %v", withLive, err)
	}
	sim, err := p.Similar(ctx, n1, 5)
	if err != nil || len(sim) != 5 {
		t.Fatalf("Similar of a live item: %v, %v", sim, err)
	}

	// Remove a live item and the most popular trained one.
	base, err := p.Recommend(ctx, Request{UserID: "nobody"})
	if err != nil || len(base.Items) == 0 {
		t.Fatal(err)
	}
	top := base.Items[0].ItemID
	if err := p.RemoveItems(ctx, []string{"new-1", top}); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveItems(ctx, []string{"never-added"}); !errors.Is(err, ErrItemNotFound) {
		t.Fatalf("removing an unknown item: %v", err)
	}
	user := ds.Users.String(ds.Events[len(ds.Events)-1].User)
	var histEvents []Event
	for _, e := range ds.Events[len(ds.Events)-200:] {
		histEvents = append(histEvents, Event{ItemID: ds.Items.String(e.Item), Time: e.Time})
	}
	fallback, _ := p.Recommend(ctx, Request{UserID: "nobody"})
	personal, _ := p.Recommend(ctx, Request{UserID: user, History: histEvents})
	degraded := p.Degraded(Query{Query: candidates.Query{User: -1}}, nil)
	onlyLiveRes, _ := p.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: hist}, Skip: onlyLive})
	for name, ids := range map[string][]string{"fallback": itemIDs(fallback), "personal": itemIDs(personal)} {
		if len(ids) == 0 || slices.Contains(ids, top) || slices.Contains(ids, "new-1") {
			t.Errorf("%s answer after removal: %v", name, ids)
		}
	}
	for _, c := range append(degraded.Items, onlyLiveRes.Items...) {
		if id := cat.String(c.Item); id == top || id == "new-1" {
			t.Errorf("removed item %s in a degraded or live-only answer", id)
		}
	}
	// Available again.
	if err := p.UpsertItems(ctx, []CatalogItem{{ID: top, Available: true}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := p.Recommend(ctx, Request{UserID: "nobody"}); again.Items[0].ItemID != top {
		t.Errorf("re-enabled %s is not first again: %v", top, itemIDs(again))
	}

	// A second bundle (a reload) sharing the catalog has the live items embedded.
	q, _ := openLive(t)
	if err := q.UseCatalog(cat); err != nil {
		t.Fatal(err)
	}
	res2, err := q.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: hist}, Skip: onlyLive})
	if err != nil || len(res2.Items) != 1 || cat.String(res2.Items[0].Item) != "new-2" {
		t.Fatalf("after UseCatalog: %+v, %v", res2.Items, err)
	}
}

func TestCatalogRefusesBadAttributes(t *testing.T) {
	cat := NewCatalog(world(t))
	for _, tc := range []struct {
		item   CatalogItem
		column string
	}{
		{CatalogItem{ID: "x", Attrs: dataset.AttrValues{Categorical: map[string][]string{"colour": {"red"}}}}, "colour"},
		{CatalogItem{ID: "x", Attrs: dataset.AttrValues{Categorical: map[string][]string{"year": {"1999"}}}}, "year"},
		{CatalogItem{ID: "x", Attrs: dataset.AttrValues{Numeric: map[string]float64{"genres": 3}}}, "genres"},
		{CatalogItem{ID: "x", Attrs: dataset.AttrValues{Categorical: map[string][]string{"genres": {""}}}}, "genres"},
		{CatalogItem{ID: ""}, ""},
	} {
		err := cat.Upsert([]CatalogItem{{ID: "fine", Available: true}, tc.item})
		var ae *AttrError
		if !errors.As(err, &ae) || ae.Item != 1 || ae.Column != tc.column {
			t.Errorf("%+v: %v", tc.item, err)
		}
	}
	if _, ok := cat.Lookup("fine"); ok {
		t.Error("a refused batch applied its valid item")
	}
}

// The file's filter (exclude list, attribute rules) applies to items added live as to the data
// set's.
func TestLiveItemsFiltered(t *testing.T) {
	ds := world(t)
	dir, err := liveBundle()
	if err != nil {
		t.Fatal(err)
	}
	g0 := ds.ItemAttrs.Column("genres").Dict.String(0)
	g1 := ds.ItemAttrs.Column("genres").Dict.String(1)
	cfg, err := ParseConfig("live.yaml", []byte(livePipeline+"filter:\n  exclude: [new-listed]\n  rules:\n    - {column: genres, exclude: ["+g0+"]}\n    - {column: year, max: 2025}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	item := func(id, genre string, year float64) CatalogItem {
		return CatalogItem{ID: id, Available: true, Attrs: dataset.AttrValues{Categorical: map[string][]string{"genres": {genre}}, Numeric: map[string]float64{"year": year}}}
	}
	if err := p.UpsertItems(ctx, []CatalogItem{item("new-listed", g1, 2020), item("new-genre", g0, 2020), item("new-year", g1, 2030), item("new-ok", g1, 2020)}); err != nil {
		t.Fatal(err)
	}
	onlyLive := func(id int32) bool { return int(id) < ds.Items.Len() }
	res, err := p.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: []int32{1, 2, 3}}, Skip: onlyLive})
	if err != nil || len(res.Items) != 1 || p.Catalog().String(res.Items[0].Item) != "new-ok" {
		t.Fatalf("live items through the filter: %+v, %v", res.Items, err)
	}
	// Updating the kept item into an excluded genre drops it too.
	if err := p.UpsertItems(ctx, []CatalogItem{item("new-ok", g0, 2020)}); err != nil {
		t.Fatal(err)
	}
	if res, _ := p.RecommendDense(ctx, Query{Query: candidates.Query{User: 0, History: []int32{1, 2, 3}}, Skip: onlyLive}); len(res.Items) != 0 {
		t.Fatalf("an item updated into an excluded genre: %+v", res.Items)
	}
	fb, _ := p.Recommend(ctx, Request{UserID: "nobody"})
	genres := ds.ItemAttrs.Column("genres")
	for _, it := range fb.Items {
		id, _ := ds.Items.Lookup(it.ItemID)
		for _, v := range genres.Values[id] {
			if genres.Dict.String(v) == g0 {
				t.Fatalf("data-set item %s of the excluded genre answered", it.ItemID)
			}
		}
	}
}
