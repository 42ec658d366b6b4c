package imported_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
)

// decimalFixture is a Spark model over a catalog whose external IDs are decimal integers (Spark's
// default mapping):
//   - items "0".."33" are in the data set, [0, 32) in the window; Spark has vectors for 0..29, for
//     33 (outside the window) and for 100 and 101 (absent from the data set);
//   - users "0".."11" are in the data set, [0, 10) in the window; Spark has vectors for 0..9, 11
//     and 50.
type decimalFixture struct {
	dir string
	cat imported.Catalog
	o   *oracle
}

const fixtureK = 6

func newDecimalFixture(t testing.TB) *decimalFixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 1))
	f := &decimalFixture{dir: t.TempDir()}
	items, users := dataset.NewDict(), dataset.NewDict()
	for i := range 34 {
		items.Add(strconv.Itoa(i))
	}
	for u := range 12 {
		users.Add(strconv.Itoa(u))
	}
	f.cat = imported.Catalog{Items: items, NumItems: 32, Users: users, NumUsers: 10}
	var itemIDs, userIDs []string
	for i := range 30 {
		itemIDs = append(itemIDs, strconv.Itoa(i))
	}
	itemIDs = append(itemIDs, "33", "100", "101")
	for u := range 10 {
		userIDs = append(userIDs, strconv.Itoa(u))
	}
	userIDs = append(userIDs, "11", "50")
	iv, uv := randomVectors(rng, itemIDs, fixtureK), randomVectors(rng, userIDs, fixtureK)
	writeSparkModel(t, f.dir, fixtureK, uv, iv)
	f.o = &oracle{k: fixtureK, items: make([][]float32, 32), users: make([][]float32, 10), allItems: iv.vecs}
	for i := range 30 {
		f.o.items[i] = iv.vecs[i]
	}
	for u := range 10 {
		f.o.users[u] = uv.vecs[u]
	}
	return f
}

func (f *decimalFixture) train(t testing.TB, edit func(*imported.Params)) *imported.Model {
	t.Helper()
	p := imported.DefaultParams()
	p.Format, p.Path = imported.FormatSparkALS, f.dir
	if edit != nil {
		edit(&p)
	}
	m, err := imported.Train(context.Background(), p, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSparkDecimalIDsAlign(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, nil)
	want := imported.Report{Format: "spark-als", Factors: fixtureK, FileItems: 33, Items: 30, ItemsSkipped: 3, CatalogItemsWithout: 2, FileUsers: 12, Users: 10, UsersSkipped: 2}
	if got := m.Report(); got != want {
		t.Fatalf("report\n got  %+v\n want %+v", got, want)
	}
	for it := range int32(32) {
		if got, want := m.ItemVector(it), f.o.items[it]; !slices.Equal(got, want) {
			t.Fatalf("item %d: vector %v, fixture %v", it, got, want)
		}
	}
	for u := range int32(10) {
		if got := m.UserVector(u); !slices.Equal(got, f.o.users[u]) {
			t.Fatalf("user %d: vector %v, fixture %v", u, got, f.o.users[u])
		}
	}
	if m.UserVector(11) != nil || m.ItemVector(33) != nil {
		t.Fatal("rows outside the window were kept")
	}
}

// Recommend and Score against the oracle: known users by their Spark vector, others (and all, with
// fold_in) by Spark's implicit user equation.
func TestRecommendMatchesOracle(t *testing.T) {
	f := newDecimalFixture(t)
	ctx := context.Background()
	history := []int32{3, 7, 7, 12, 31, 40} // 31 has no vector, 40 is outside the catalog
	seen := func(it int32) bool { return slices.Contains(history, it) }
	for _, tc := range []struct {
		name   string
		foldIn bool
		user   int32
		want   []float64 // nil: fold in
	}{
		{"known user", false, 4, nil},
		{"known user folded in", true, 4, nil},
		{"unknown user", false, -1, nil},
		{"user outside the window", false, 11, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.train(t, func(p *imported.Params) { p.FoldIn = tc.foldIn; p.Alpha = 3; p.Reg = 0.05 })
			user := f.o.foldALS(history, nil, true, 3, 0.05)
			if tc.user >= 0 && tc.user < 10 && !tc.foldIn {
				user = to64(f.o.users[tc.user])
			}
			q := candidates.Query{User: tc.user, History: history}
			got, err := m.Recommend(ctx, q, 10, seen, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.o.checkList(t, "top 10", user, got, f.o.top(user, 10, seen), seen)
			// More than the catalog: every item with a vector, none without.
			all, _ := m.Recommend(ctx, q, 100, nil, nil)
			f.o.checkList(t, "all", user, all, f.o.top(user, 100, nil), nil)

			items := []int32{0, 5, 30, 31, 32, -1, 29}
			dst := make([]float32, len(items))
			if err := m.Score(ctx, q, items, dst); err != nil {
				t.Fatal(err)
			}
			for j, it := range items {
				s, ok := f.o.score(user, it)
				if !ok != math.IsNaN(float64(dst[j])) || (ok && math.Abs(float64(dst[j])-s) > 1e-4*(1+math.Abs(s))) {
					t.Errorf("score of item %d: %v, oracle %v (has vector %v)", it, dst[j], s, ok)
				}
			}
			// Score and Recommend agree bit for bit.
			for _, c := range got {
				var s [1]float32
				m.Score(ctx, q, []int32{c.Item}, s[:])
				if s[0] != c.Score {
					t.Errorf("item %d: Score %v, Recommend %v", c.Item, s[0], c.Score)
				}
			}
		})
	}
}

// Without a user vector (an unknown user whose history has no item with a vector) there are no
// candidates and every score is NaN.
func TestNoUserVector(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, nil)
	q := candidates.Query{User: -1, History: []int32{30, 31, 45}}
	got, err := m.Recommend(context.Background(), q, 5, nil, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	dst := []float32{0}
	m.Score(context.Background(), q, []int32{1}, dst)
	if !math.IsNaN(float64(dst[0])) {
		t.Fatalf("score %v, want NaN", dst[0])
	}
}

func TestFoldInMatchesOracle(t *testing.T) {
	f := newDecimalFixture(t)
	history := []int32{3, 7, 12, 7, 20, 31, 25, 3}
	values := []float32{4, 2, float32(math.NaN()), 5, 3, 1, 2, 1}
	for _, tc := range []struct {
		name string
		edit func(*imported.Params)
		want []float64
	}{
		{"implicit", func(p *imported.Params) { p.Alpha, p.Reg = 2, 0.1 }, f.o.foldALS(history, nil, true, 2, 0.1)},
		{"implicit alpha 0", func(p *imported.Params) { p.Alpha, p.Reg = 0, 0.3 }, f.o.foldALS(history, nil, true, 0, 0.3)},
		{"explicit", func(p *imported.Params) { p.Implicit, p.Reg = false, 0.05 }, f.o.foldALS(history, values, false, 0, 0.05)},
		{"mean", func(p *imported.Params) { p.Fold = imported.FoldMean }, f.o.foldMean(history)},
		{"mean of the last 3", func(p *imported.Params) { p.Fold, p.HistoryLen = imported.FoldMean, 3 }, f.o.foldMean(history[5:])},
		{"implicit, last 4", func(p *imported.Params) { p.HistoryLen = 4 }, f.o.foldALS(history[4:], nil, true, 1, 0.1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.train(t, tc.edit)
			got, ok := m.FoldIn(history, values, nil)
			if !ok {
				t.Fatal("no vector")
			}
			closeVec(t, tc.name, got, tc.want)
		})
	}
}

func TestWithServing(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, nil)
	p := m.Params()
	p.Fold, p.FoldIn = imported.FoldMean, true
	s, err := m.WithServing(p)
	if err != nil {
		t.Fatal(err)
	}
	history := []int32{1, 2, 3}
	got, _ := s.FoldIn(history, nil, nil)
	closeVec(t, "mean", got, f.o.foldMean(history))
	if m.Params().Fold != imported.FoldALS {
		t.Fatal("WithServing changed the original model")
	}
	p.Reg = -1
	if _, err := m.WithServing(p); err == nil {
		t.Fatal("reg -1 accepted")
	}
}

func TestSaveLoad(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, func(p *imported.Params) { p.FoldIn = true; p.Alpha = 4; p.HistoryLen = 5 })
	path := filepath.Join(t.TempDir(), "m.imported")
	sum, err := m.Save(path)
	if err != nil || len(sum) != 64 {
		t.Fatalf("save: %q, %v", sum, err)
	}
	l, err := imported.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Params() != m.Params() || l.Report() != m.Report() || !slices.Equal(l.ItemFactors(), m.ItemFactors()) {
		t.Fatalf("loaded %+v %+v, saved %+v %+v", l.Params(), l.Report(), m.Params(), m.Report())
	}
	ctx := context.Background()
	for _, h := range [][]int32{{1, 2}, {5, 5, 9, 14, 22, 29, 3}, {31}} {
		q := candidates.Query{User: 2, History: h}
		a, _ := m.Recommend(ctx, q, 8, nil, nil)
		b, _ := l.Recommend(ctx, q, 8, nil, nil)
		if !slices.Equal(a, b) {
			t.Fatalf("history %v: saved model %v, loaded %v", h, a, b)
		}
	}
	// A damaged artifact is refused.
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 1
	os.WriteFile(path, data, 0o644)
	if _, err := imported.Load(path); !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("damaged artifact: %v", err)
	}
}

// Steady-state requests allocate nothing: the scratch is pooled.
func TestRecommendAllocs(t *testing.T) {
	f := newDecimalFixture(t)
	ctx := context.Background()
	skip := func(it int32) bool { return it%5 == 0 }
	for _, fold := range []string{imported.FoldALS, imported.FoldMean} {
		m := f.train(t, func(p *imported.Params) { p.Fold, p.FoldIn = fold, true })
		q := candidates.Query{User: -1, History: []int32{1, 4, 4, 9, 17, 28}}
		dst := make([]candidates.Candidate, 0, 10)
		scores := make([]float32, 4)
		m.Recommend(ctx, q, 10, skip, dst)
		if n := testing.AllocsPerRun(100, func() {
			dst, _ = m.Recommend(ctx, q, 10, skip, dst)
			m.Score(ctx, q, []int32{1, 2, 3, 31}, scores)
		}); n != 0 {
			t.Errorf("fold %s: %v allocations per request", fold, n)
		}
	}
}

func TestConcurrentRecommend(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, nil)
	ctx := context.Background()
	want := make([][]candidates.Candidate, 10)
	query := func(u int) candidates.Query {
		return candidates.Query{User: int32(u) - 3, History: []int32{int32(u), int32(u + 3), int32(2 * u)}}
	}
	for u := range want {
		want[u], _ = m.Recommend(ctx, query(u), 7, nil, nil)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 50 {
				u := (g + r) % 10
				got, _ := m.Recommend(ctx, query(u), 7, nil, nil)
				if !slices.Equal(got, want[u]) {
					t.Errorf("user %d: %v, want %v", u, got, want[u])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCanceledContext(t *testing.T) {
	f := newDecimalFixture(t)
	m := f.train(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Recommend(ctx, candidates.Query{User: 1, History: []int32{1}}, 5, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("recommend: %v", err)
	}
	if _, err := imported.Train(ctx, m.Params(), f.cat); !errors.Is(err, context.Canceled) {
		t.Fatalf("train: %v", err)
	}
}
