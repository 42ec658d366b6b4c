package features

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

const day = secondsPerDay

// halfScorer scores item i as i/2 and does not know items ≥ numItems.
type halfScorer struct{ numItems int32 }

func (h halfScorer) Score(ctx context.Context, _ candidates.Query, items []int32, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, it := range items {
		if it < 0 || it >= h.numItems {
			dst[i] = float32(math.NaN())
		} else {
			dst[i] = float32(it) / 2
		}
	}
	return nil
}

// tinyLog is the hand-made log of the feature table test: 5 items (item 4 without events),
// three users; the event at day 8 lies after the request time (day 6).
//
//	u0 i0 d0 ★4 · u1 i0 d1 ★2 · u0 i1 d2 ★5 · u1 i2 d3 (unrated) · u2 i1 d4 ★3 · u0 i2 d5 ★1 · u2 i3 d8 ★4
func tinyLog() []dataset.Event {
	nan := float32(math.NaN())
	return []dataset.Event{
		{User: 0, Item: 0, Time: 0 * day, Value: 4},
		{User: 1, Item: 0, Time: 1 * day, Value: 2},
		{User: 0, Item: 1, Time: 2 * day, Value: 5},
		{User: 1, Item: 2, Time: 3 * day, Value: nan},
		{User: 2, Item: 1, Time: 4 * day, Value: 3},
		{User: 0, Item: 2, Time: 5 * day, Value: 1},
		{User: 2, Item: 3, Time: 8 * day, Value: 4},
	}
}

// tinyDataset holds the item attributes: genres i0 {A}, i1 {A,B}, i2 {B}, i3 {C}, i4 {};
// year 1990, 2000, 1995, unknown, 2010.
func tinyDataset() *dataset.Dataset {
	items := dataset.NewDict()
	for i := range 5 {
		items.Add(fmt.Sprint("item", i))
	}
	genres := dataset.NewDict()
	a, b, c := genres.Add("A"), genres.Add("B"), genres.Add("C")
	nan := float32(math.NaN())
	return &dataset.Dataset{
		Name: "tiny", Items: items, Users: dataset.NewDict(), HasValues: true,
		ItemAttrs: &dataset.Attributes{
			Categorical: []dataset.CategoricalColumn{{Name: "genres", Dict: genres, Values: [][]int32{{a}, {a, b}, {b}, {c}, nil}}},
			Numeric:     []dataset.NumericColumn{{Name: "Year", Values: []float32{1990, 2000, 1995, nan, 2010}}},
		},
	}
}

func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.HalfLifeDays = 1
	cfg.RecentDays = 3
	cfg.CoocWindow = 0
	return cfg
}

// tinyBatch: user u0's history (i0 at day 0 ★4, i1 at day 2 ★5) at day 6; candidates
// 2, 3, 4, 7 (outside the catalog), 1; two sources.
func tinyBatch() *Batch {
	b := &Batch{}
	b.Reset(candidates.Query{
		User: 0, History: []int32{0, 1}, HistoryTimes: []int64{0, 2 * day}, HistoryValues: []float32{4, 5}, Time: 6 * day,
	}, []int32{2, 3, 4, 7, 1})
	b.AddSource("ials", []candidates.Candidate{{Item: 3, Score: 0.9}, {Item: 2, Score: 0.8}, {Item: 9, Score: 0.1}})
	b.AddSource("pop", []candidates.Candidate{{Item: 1, Score: 5}, {Item: 2, Score: 4}})
	return b
}

func tinyExtractor(t testing.TB, events []dataset.Event, cfg Config) *Extractor {
	t.Helper()
	st, err := Build(context.Background(), events, 5, tinyDataset(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExtractor(st, []NamedScorer{{Name: "half", Scorer: halfScorer{5}}}, []string{"ials", "pop"})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func compute(t testing.TB, x *Extractor, b *Batch) []float32 {
	t.Helper()
	m, err := x.Compute(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ln(x float64) float64 { return math.Log(x) }

// TestFeatureValues checks every feature of the tiny log against values computed by hand.
func TestFeatureValues(t *testing.T) {
	x := tinyExtractor(t, tinyLog(), tinyConfig())
	m := compute(t, x, tinyBatch())
	nan := math.NaN()
	// Before day 6: i0 at days 0, 1; i1 at 2, 4; i2 at 3, 5; i3 none (its event is at day 8).
	// N = 6 events, M = 5 items. Decayed at day 6 with a 1-day half-life: i0 2⁻⁶+2⁻⁵ = 3/64,
	// i1 2⁻⁴+2⁻² = 20/64, i2 2⁻³+2⁻¹ = 40/64, all 63/64.
	lp := map[int32]float64{2: ln(3.0 / 11), 3: ln(1.0 / 11), 4: ln(1.0 / 11), 7: ln(1.0 / 11), 1: ln(3.0 / 11)}
	// Co-occurrences before day 6 (whole user histories): (0,1) once [u0], (0,2) twice [u0, u1],
	// (1,2) once [u0]; (1,3) only at day 8. History {1, 0}; counts n0 = n1 = n2 = 2.
	// rank_half: scores 1, 1.5, 2, NaN, 0.5.
	cases := []struct {
		name string
		want []float64 // per candidate 2, 3, 4, 7, 1
	}{
		{"score_half", []float64{1, 1.5, 2, nan, 0.5}},
		{"rank_half", []float64{3, 2, 1, nan, 4}},
		{"pmi_half", []float64{1 - lp[2], 1.5 - lp[3], 2 - lp[4], nan, 0.5 - lp[1]}},
		{"src_ials", []float64{1, 1, 0, 0, 0}},
		{"src_pop", []float64{1, 0, 0, 0, 1}},
		{"srcscore_ials", []float64{0.8, 0.9, nan, nan, nan}},
		{"srcscore_pop", []float64{4, nan, nan, nan, 5}},
		{"srcrank_ials", []float64{2, 1, nan, nan, nan}},
		{"srcrank_pop", []float64{2, nan, nan, nan, 1}},
		{"log_prior", []float64{lp[2], lp[3], lp[4], lp[7], lp[1]}},
		{"log_prior_decayed", []float64{ln(104.0 / 383), ln(64.0 / 383), ln(64.0 / 383), ln(64.0 / 383), ln(84.0 / 383)}},
		{"item_age_days", []float64{3, nan, nan, nan, 4}},
		{"item_days_since_last", []float64{1, nan, nan, nan, 2}},
		{"item_recent_pop", []float64{2, 0, 0, 0, 1}}, // [day 3, day 6)
		{"item_mean_rating", []float64{1, nan, nan, nan, 4}},
		{"hist_len", []float64{2, 2, 2, 2, 2}},
		{"days_since_last", []float64{4, 4, 4, 4, 4}},
		{"user_mean_rating", []float64{4.5, 4.5, 4.5, 4.5, 4.5}},
		{"genre_share", []float64{0.5, 0, nan, nan, 1}},
		{"genre_match_max", []float64{0.5, 0, nan, nan, 1}},
		{"cooc", []float64{ln(2) + ln(3), 0, 0, nan, ln(2)}},
		{"cooc_max", []float64{ln(3), 0, 0, nan, ln(2)}},
		{"cooc_cos", []float64{1.0/2 + 2.0/2, 0, 0, nan, 1.0 / 2}},
		{"attr_year", []float64{1995, nan, 2010, nan, 2000}},
		{"attrdiff_year", []float64{0, nan, 15, nan, 5}},
	}
	schema := x.Schema()
	if len(cases) != len(schema.Names) {
		t.Errorf("schema has %d features, the table %d: %v", len(schema.Names), len(cases), schema.Names)
	}
	nf := x.NumFeatures()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := schema.Index(c.name)
			if col < 0 {
				t.Fatalf("not in the schema %v", schema.Names)
			}
			if Describe(c.name) == "" {
				t.Errorf("no description")
			}
			for i, want := range c.want {
				if got := float64(m[i*nf+col]); !close32(got, want) {
					t.Errorf("candidate %d: got %v, want %v", i, got, want)
				}
			}
		})
	}
}

// close32 compares a float32 result with an exact value (NaN equals NaN).
func close32(got, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

// TestRankTies: equal scores share the best rank, whatever the candidates' order.
func TestRankTies(t *testing.T) {
	var s scratch
	s.prepare(5)
	nan := float32(math.NaN())
	s.ranks([]float32{1, 3, nan, 3, 2})
	want := []float32{4, 1, nan, 1, 3}
	for i := range want {
		if s.rank[i] != want[i] && !(want[i] != want[i] && s.rank[i] != s.rank[i]) {
			t.Fatalf("ranks %v, want %v", s.rank[:5], want)
		}
	}
}

// TestNoFutureEvents appends events at and after the request time (some for the candidates,
// some forming co-occurrences with the history) and checks that no feature moves.
func TestNoFutureEvents(t *testing.T) {
	cfg := tinyConfig()
	base := compute(t, tinyExtractor(t, tinyLog(), cfg), tinyBatch())
	future := append(tinyLog(),
		dataset.Event{User: 0, Item: 3, Time: 8 * day, Value: 5}, // co-occurs with the history at day 8
		dataset.Event{User: 1, Item: 1, Time: 9 * day, Value: 1},
		dataset.Event{User: 3, Item: 2, Time: 10 * day, Value: 5},
		dataset.Event{User: 0, Item: 4, Time: 11 * day, Value: 2},
	)
	// An event exactly at the request time is "at or after t" too.
	atT := append(tinyLog()[:6:6], dataset.Event{User: 0, Item: 2, Time: 6 * day, Value: 5}, tinyLog()[6])
	for name, events := range map[string][]dataset.Event{"future": future, "at t": atT} {
		got := compute(t, tinyExtractor(t, events, cfg), tinyBatch())
		if err := sameBits(base, got); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func sameBits(a, b []float32) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d values, want %d", len(b), len(a))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return fmt.Errorf("value %d is %v, want %v", i, b[i], a[i])
		}
	}
	return nil
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mod := range map[string]func(*Config){
		"half_life_days":   func(c *Config) { c.HalfLifeDays = 0 },
		"recent_days":      func(c *Config) { c.RecentDays = math.Inf(1) },
		"cooc_top_k":       func(c *Config) { c.CoocTopK = 0 },
		"cooc_window":      func(c *Config) { c.CoocWindow = -1 },
		"cooc_history":     func(c *Config) { c.CoocHistory = 0 },
		"attribute_column": func(c *Config) { c.AttributeColumn = "" },
		"features":         func(c *Config) { c.Features = []string{"cooc", "bogus"} },
		"numeric_columns":  func(c *Config) { c.NumericColumns = []string{""} },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
	c := DefaultConfig()
	c.Features = []string{"score", "score_ials", "log_prior", "attr_year"}
	if err := c.Validate(); err != nil {
		t.Errorf("families and members: %v", err)
	}
}

// TestFeatureSelection: Config.Features picks columns by name and family, and a named feature
// that cannot be produced is an error.
func TestFeatureSelection(t *testing.T) {
	cfg := tinyConfig()
	cfg.Features = []string{"cooc", "score", "srcrank_pop", "attr"}
	x := tinyExtractor(t, tinyLog(), cfg)
	want := []string{"score_half", "srcrank_pop", "cooc", "attr_year"}
	if err := x.Schema().Check(want); err != nil {
		t.Fatalf("schema %v: %v", x.Schema().Names, err)
	}
	// The selected columns carry the same values as in the full matrix.
	full := tinyExtractor(t, tinyLog(), tinyConfig())
	fm, sm := compute(t, full, tinyBatch()), compute(t, x, tinyBatch())
	cols, err := full.Schema().Columns(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameBits(Project(nil, fm, full.NumFeatures(), cols), sm); err != nil {
		t.Error(err)
	}

	cfg.Features = []string{"score_other"}
	st, err := Build(context.Background(), tinyLog(), 5, tinyDataset(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewExtractor(st, []NamedScorer{{"half", halfScorer{5}}}, nil); err == nil || !strings.Contains(err.Error(), "score_other") {
		t.Errorf("unknown model feature: %v", err)
	}
	cfg.Features = []string{"genre_share"}
	if _, err := Build(context.Background(), tinyLog(), 5, nil, cfg); err == nil || !strings.Contains(err.Error(), "genres") {
		t.Errorf("genre_share without the column: %v", err)
	}
	// Without the column and not asked for by name, the genre features are left out.
	st, err = Build(context.Background(), tinyLog(), 5, nil, tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	x, err = NewExtractor(st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Schema().Index("genre_share") >= 0 || x.Schema().Index("attr_year") >= 0 {
		t.Errorf("schema without attributes: %v", x.Schema().Names)
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	unsorted := tinyLog()
	unsorted[2], unsorted[3] = unsorted[3], unsorted[2]
	if _, err := Build(ctx, unsorted, 5, nil, tinyConfig()); err == nil || !strings.Contains(err.Error(), "time order") {
		t.Errorf("unsorted events: %v", err)
	}
	cfg := tinyConfig()
	cfg.NumericColumns = []string{"price"}
	if _, err := Build(ctx, tinyLog(), 5, tinyDataset(), cfg); err == nil || !strings.Contains(err.Error(), "price") {
		t.Errorf("missing numeric column: %v", err)
	}
	cfg = tinyConfig()
	cfg.HalfLifeDays = -1
	if _, err := Build(ctx, tinyLog(), 5, nil, cfg); err == nil {
		t.Error("invalid config accepted")
	}
	st, _ := Build(ctx, tinyLog(), 5, nil, tinyConfig())
	if _, err := NewExtractor(st, []NamedScorer{{"A-b", halfScorer{5}}, {"a b", halfScorer{5}}}, nil); err == nil {
		t.Error("models with the same feature names accepted")
	}
	if _, err := NewExtractor(st, []NamedScorer{{"m", nil}}, nil); err == nil {
		t.Error("nil scorer accepted")
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Build(ctx, tinyLog(), 5, nil, tinyConfig()); err == nil {
		t.Error("cancelled build succeeded")
	}
}

func TestComputeErrors(t *testing.T) {
	x := tinyExtractor(t, tinyLog(), tinyConfig())
	b := tinyBatch()
	b.Sources[0].Ranks = b.Sources[0].Ranks[:2]
	if _, err := x.Compute(context.Background(), b, nil); err == nil {
		t.Error("short ranks accepted")
	}
	b = tinyBatch()
	b.Sources[1].Name = "other"
	if _, err := x.Compute(context.Background(), b, nil); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("unknown source: %v", err)
	}
	if err := x.Fill(context.Background(), tinyBatch(), make([]float32, 10), x.NumFeatures()); err == nil {
		t.Error("short dst accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Compute(ctx, tinyBatch(), nil); err == nil {
		t.Error("cancelled request succeeded")
	}
	// A source without a list in the batch proposed nothing.
	b = tinyBatch()
	b.Sources = b.Sources[:1]
	m := compute(t, x, b)
	c := x.Schema().Index("src_pop")
	for i := range b.Items {
		if m[i*x.NumFeatures()+c] != 0 {
			t.Errorf("src_pop of candidate %d = %v without the source", i, m[i*x.NumFeatures()+c])
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"Year": "year", "two-tower": "two_tower", "  a  B ": "a_b", "x_1": "x_1", "--": ""} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
