package als

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/params"
	"github.com/cascade-rec/cascade/progress"
)

var quiet = progress.Options{Disabled: true}

func testIALSParams() IALSParams {
	p := DefaultIALSParams()
	p.Factors, p.Alpha, p.Reg, p.Iterations = 8, 4, 0.5, 8
	return p
}

func TestIALSParamsValidate(t *testing.T) {
	if err := DefaultIALSParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*IALSParams)
	}{
		{"factors", func(p *IALSParams) { p.Factors = 0 }},
		{"reg", func(p *IALSParams) { p.Reg = 0 }},
		{"reg", func(p *IALSParams) { p.Reg = math.NaN() }},
		{"alpha", func(p *IALSParams) { p.Alpha = -1 }},
		{"reg_exponent", func(p *IALSParams) { p.RegExponent = -0.5 }},
		{"iterations", func(p *IALSParams) { p.Iterations = 0 }},
		{"solver", func(p *IALSParams) { p.Solver = "lu" }},
		{"cg_steps", func(p *IALSParams) { p.Solver, p.CGSteps = SolverCG, 0 }},
		{"workers", func(p *IALSParams) { p.Workers = -1 }},
	} {
		p := DefaultIALSParams()
		tc.edit(&p)
		var fe params.FieldError
		if err := p.Validate(); !errors.As(err, &fe) || fe.Path != tc.field {
			t.Errorf("%s: got %v, want an error naming %q", tc.field, err, tc.field)
		}
	}
}

func TestIALSLossDecreases(t *testing.T) {
	r := randomCounts(1, 120, 80, 12, 3, 5, 7)
	for _, tc := range []struct {
		name   string
		solver string
		steps  int
		regExp float64
		reg    float64
		tol    float64 // allowed relative increase per iteration
	}{
		{"cholesky", SolverCholesky, 0, 0, 0.5, 0},
		{"cholesky freq-scaled reg", SolverCholesky, 0, 1, 0.005, 0},
		{"cg 3 steps", SolverCG, 3, 0, 0.5, 1e-5},
		{"cg 1 step", SolverCG, 1, 0.5, 0.05, 1e-5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testIALSParams()
			p.Solver, p.CGSteps, p.RegExponent, p.Reg = tc.solver, tc.steps, tc.regExp, tc.reg
			m, stats, err := TrainIALSMatrix(t.Context(), r, p, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if len(stats.Loss) != p.Iterations || len(stats.Seconds) != p.Iterations {
				t.Fatalf("stats have %d losses, %d times; want %d", len(stats.Loss), len(stats.Seconds), p.Iterations)
			}
			for i := 1; i < len(stats.Loss); i++ {
				prev, cur := stats.Loss[i-1], stats.Loss[i]
				if tc.tol == 0 && !(cur < prev) || cur > prev*(1+tc.tol) {
					t.Fatalf("loss went from %v to %v at iteration %d: %v", prev, cur, i+1, stats.Loss)
				}
			}
			if stats.Loss[len(stats.Loss)-1] >= stats.Loss[0]*0.999 {
				t.Fatalf("loss barely moved: %v", stats.Loss)
			}
			// Loss on the final factors equals the last reported value.
			got, err := m.Loss(t.Context(), r)
			if err != nil {
				t.Fatal(err)
			}
			if d := relDiff(got, stats.Loss[len(stats.Loss)-1]); d > 1e-12 {
				t.Fatalf("Loss() = %v, last iteration %v", got, stats.Loss[len(stats.Loss)-1])
			}
		})
	}
}

// denseIALS computes the iALS objective and the exact user solves with the dense confidence
// matrix, without the Gramian trick.
func denseIALS(r *dataset.Matrix, k int, users, items []float32, p IALSParams) (loss float64, solved []float64) {
	nu, ni := r.Rows, r.Cols
	c := mat.NewDense(nu, ni, nil)
	pref := mat.NewDense(nu, ni, nil)
	for u := range nu {
		for i := range ni {
			c.Set(u, i, 1)
		}
		idx, cnt := r.Row(u)
		for n, i := range idx {
			c.Set(u, int(i), 1+p.Alpha*float64(cnt[n]))
			pref.Set(u, int(i), 1)
		}
	}
	reg := func(total float64) float64 { return p.Reg * math.Pow(total, p.RegExponent) }
	vec := func(f []float32, row int) *mat.VecDense {
		v := mat.NewVecDense(k, nil)
		for d := range k {
			v.SetVec(d, float64(f[row*k+d]))
		}
		return v
	}
	for u := range nu {
		xu := vec(users, u)
		loss += reg(mat.Sum(c.RowView(u))) * mat.Dot(xu, xu)
		for i := range ni {
			e := pref.At(u, i) - mat.Dot(xu, vec(items, i))
			loss += c.At(u, i) * e * e
		}
	}
	for i := range ni {
		yi := vec(items, i)
		loss += reg(mat.Sum(c.ColView(i))) * mat.Dot(yi, yi)
	}
	for u := range nu {
		a := mat.NewSymDense(k, nil)
		b := mat.NewVecDense(k, nil)
		for i := range ni {
			yi := vec(items, i)
			a.SymRankOne(a, c.At(u, i), yi)
			b.AddScaledVec(b, c.At(u, i)*pref.At(u, i), yi)
		}
		lambda := reg(mat.Sum(c.RowView(u)))
		for d := range k {
			a.SetSym(d, d, a.At(d, d)+lambda)
		}
		var ch mat.Cholesky
		if !ch.Factorize(a) {
			panic("dense system not positive definite")
		}
		var x mat.VecDense
		if err := ch.SolveVecTo(&x, b); err != nil {
			panic(err)
		}
		solved = append(solved, x.RawVector().Data...)
	}
	return loss, solved
}

func TestIALSGramianMatchesDense(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      *dataset.Matrix
		k      int
		solver string
		steps  int
		regExp float64
		tol    float64
	}{
		// User 2 and item 4 have no events.
		{"cholesky", randomCounts(3, 7, 6, 3, 4, 2, 4), 3, SolverCholesky, 0, 0, 1e-5},
		{"cholesky freq-scaled reg", randomCounts(3, 7, 6, 3, 4, 2, 4), 3, SolverCholesky, 0, 1, 1e-5},
		{"cg converged", randomCounts(3, 7, 6, 3, 4, 2, 4), 3, SolverCG, 20, 0.5, 1e-3},
		// Rows of ≥ syrkMinRows entries take weightedOuter's Ssyrk path.
		{"cholesky long rows", randomCounts(4, 5, 70, 60, 3, -1, -1), 4, SolverCholesky, 0, 0, 1e-5},
		{"cg long rows", randomCounts(4, 5, 70, 60, 3, -1, -1), 4, SolverCG, 40, 0, 1e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, k := tc.r, tc.k
			p := DefaultIALSParams()
			p.Factors, p.Alpha, p.Reg, p.RegExponent, p.Solver, p.CGSteps = k, 3, 0.2, tc.regExp, tc.solver, tc.steps
			rng := newRNG(7)
			users, items := initFactors(rng, r.Rows, k), initFactors(rng, r.Cols, k)
			tr := newIALSTrainer(p, r, users, items)

			wantLoss, want := denseIALS(r, k, users, items, p)
			kernel.Gram(items, k, tr.g)
			loss, err := objective(t.Context(), r, k, users, items, tr.g, tr.userReg, tr.itemReg, p.Alpha, tr.solvers, tr.rowLoss)
			if err != nil {
				t.Fatal(err)
			}
			if d := relDiff(loss, wantLoss); d > 1e-9 {
				t.Fatalf("Gramian objective %v, dense %v (rel diff %g)", loss, wantLoss, d)
			}

			if err := tr.sweep(t.Context(), "user", r, items, users, tr.userReg); err != nil {
				t.Fatal(err)
			}
			for j, w := range want {
				if math.Abs(float64(users[j])-w) > tc.tol*max(1, math.Abs(w)) {
					t.Fatalf("user %d factor %d: got %v, dense solve %v", j/k, j%k, users[j], w)
				}
			}
		})
	}
}

// TestNormalEquations checks the gathered Σ w·y·yᵀ and Σ v·y against the loops in float64.
func TestNormalEquations(t *testing.T) {
	rng := newRNG(3)
	for _, tc := range []struct{ k, n int }{{5, 1}, {5, 150}, {64, 1}, {64, 47}, {64, 300}} {
		k, n := tc.k, tc.n
		fixed := initFactors(rng, 200, k)
		idx := make([]int32, n)
		w, v := make([]float32, n), make([]float32, n)
		for j := range idx {
			idx[j] = int32(rng.IntN(200))
			w[j] = float32(rng.IntN(3)) // zero weights included
			v[j] = 1 + w[j]
		}
		s := newRowSolver(k)
		s.normalEquations(fixed, idx, w, v)
		for a := range k {
			var wantB float64
			for j, i := range idx {
				wantB += float64(v[j]) * float64(fixed[int(i)*k+a])
			}
			if got := s.b[a]; math.Abs(got-wantB) > 1e-5*max(1, math.Abs(wantB)) {
				t.Fatalf("k=%d n=%d: b[%d] = %v, want %v", k, n, a, got, wantB)
			}
			for b := range a + 1 {
				var want float64
				for j, i := range idx {
					want += float64(w[j]) * float64(fixed[int(i)*k+a]) * float64(fixed[int(i)*k+b])
				}
				if got := float64(s.outer[a*k+b]); math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
					t.Fatalf("k=%d n=%d: outer[%d][%d] = %v, want %v", k, n, a, b, got, want)
				}
			}
		}
	}
}

func TestIALSFoldInEqualsTraining(t *testing.T) {
	r := randomCounts(4, 60, 40, 8, 3, 3, -1)
	for _, regExp := range []float64{0, 1} {
		p := testIALSParams()
		p.RegExponent = regExp
		if regExp != 0 {
			p.Reg = 0.01
		}
		m, _, err := TrainIALSMatrix(t.Context(), r, p, quiet)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 5))
		k := m.Factors()
		var vec []float32
		for u := range r.Rows {
			h := historyOf(r, u, rng)
			h = append(h, int32(r.Cols), -1, 1<<30) // unknown items are ignored
			var ok bool
			vec, ok = m.FoldIn(h, vec)
			if idx, _ := r.Row(u); len(idx) == 0 {
				if ok {
					t.Fatalf("user %d: fold-in from no known item reported ok", u)
				}
				continue
			}
			if !ok || !slices.Equal(vec, m.UserFactors()[u*k:u*k+k]) {
				t.Fatalf("reg_exponent %v, user %d: fold-in %v, training %v", regExp, u, vec, m.UserFactors()[u*k:u*k+k])
			}
		}
	}
}

func TestIALSDeterministic(t *testing.T) {
	r := randomCounts(6, 300, 90, 10, 3, -1, -1)
	for _, solver := range []string{SolverCholesky, SolverCG} {
		t.Run(solver, func(t *testing.T) {
			var models []*IALSModel
			for _, w := range []int{1, 2, 3} {
				p := testIALSParams()
				p.Solver, p.Workers, p.Iterations = solver, w, 3
				m, _, err := TrainIALSMatrix(t.Context(), r, p, quiet)
				if err != nil {
					t.Fatal(err)
				}
				models = append(models, m)
			}
			for _, m := range models[1:] {
				if !slices.Equal(m.UserFactors(), models[0].UserFactors()) || !slices.Equal(m.ItemFactors(), models[0].ItemFactors()) {
					t.Fatalf("workers=%d gives other factors than workers=1", m.Params().Workers)
				}
			}
			p := testIALSParams()
			p.Solver, p.Iterations, p.Seed = solver, 3, 99
			other, _, err := TrainIALSMatrix(t.Context(), r, p, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(other.ItemFactors(), models[0].ItemFactors()) {
				t.Fatal("a different seed gives the same factors")
			}
		})
	}
}

func TestIALSBeatsPopularity(t *testing.T) {
	w := newWorld(11, 500, 300, 6, 25, 5)
	pop := popularity.Train(w.train, w.numItems, w.itemIDs)
	p := DefaultIALSParams()
	p.Factors, p.Alpha, p.Reg, p.Iterations = 16, 8, 2, 10
	for _, solver := range []string{SolverCholesky, SolverCG} {
		p.Solver = solver
		m, _, err := TrainIALS(t.Context(), w.train, w.numUsers, w.numItems, p, quiet)
		if err != nil {
			t.Fatal(err)
		}
		hrPop, hrIALS := w.hitRate(t, pop, 10), w.hitRate(t, m, 10)
		t.Logf("%s: hr@10 popularity %.3f, iALS %.3f", solver, hrPop, hrIALS)
		if hrIALS < 2*hrPop {
			t.Fatalf("%s: iALS hr@10 %.3f is not 2× popularity's %.3f", solver, hrIALS, hrPop)
		}
	}
}

func trainSmallIALS(t *testing.T) (*IALSModel, *dataset.Matrix) {
	t.Helper()
	r := randomCounts(8, 50, 70, 9, 2, -1, -1)
	m, _, err := TrainIALSMatrix(t.Context(), r, testIALSParams(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

func TestIALSServing(t *testing.T) {
	m, _ := trainSmallIALS(t)
	ctx := t.Context()
	q := candidates.Query{User: -1, History: []int32{3, 9, 9, 70, -2}}
	all, err := m.Recommend(ctx, q, m.NumItems(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != m.NumItems() {
		t.Fatalf("%d candidates, want %d", len(all), m.NumItems())
	}
	items := make([]int32, len(all))
	for j, c := range all {
		items[j] = c.Item
		if j > 0 && candidates.Better(c, all[j-1]) {
			t.Fatalf("candidates out of order at %d", j)
		}
	}
	scores := make([]float32, len(items)+2)
	if err := m.Score(ctx, q, append(items, 70, -1), scores); err != nil {
		t.Fatal(err)
	}
	for j, c := range all {
		if scores[j] != c.Score {
			t.Fatalf("item %d: Score %v, Recommend %v", c.Item, scores[j], c.Score)
		}
	}
	if !math.IsNaN(float64(scores[len(items)])) || !math.IsNaN(float64(scores[len(items)+1])) {
		t.Fatal("unknown items must score NaN")
	}

	skip := func(it int32) bool { return it == 3 || it == 9 }
	top, err := m.Recommend(ctx, q, 5, skip, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []candidates.Candidate
	for _, c := range all {
		if len(want) < 5 && !skip(c.Item) {
			want = append(want, c)
		}
	}
	if !slices.Equal(top, want) {
		t.Fatalf("top 5 with skip %v, want %v", top, want)
	}

	unknown := candidates.Query{User: 3, History: []int32{70, 1000}}
	if got, err := m.Recommend(ctx, unknown, 5, nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("no known history: got %v, %v; want no candidates", got, err)
	}
	if err := m.Score(ctx, unknown, []int32{1}, scores); err != nil || !math.IsNaN(float64(scores[0])) {
		t.Fatalf("no known history: score %v, %v; want NaN", scores[0], err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Recommend(cancelled, q, 5, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestIALSServingDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m, _ := trainSmallIALS(t)
	ctx := context.Background()
	q := candidates.Query{User: 1, History: []int32{1, 2, 3, 2, 60, 61}}
	dst := make([]candidates.Candidate, 0, 20)
	items := []int32{4, 5, 6}
	scores := make([]float32, 3)
	skip := func(it int32) bool { return it < 4 }
	m.Recommend(ctx, q, 20, skip, dst) // warm the pool
	if n := testing.AllocsPerRun(50, func() {
		dst, _ = m.Recommend(ctx, q, 20, skip, dst)
		_ = m.Score(ctx, q, items, scores)
	}); n != 0 {
		t.Fatalf("%v allocations per Recommend+Score", n)
	}
}

func TestIALSSaveLoad(t *testing.T) {
	m, r := trainSmallIALS(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ials.model")
	sum, err := m.Save(path)
	if err != nil || len(sum) != 64 {
		t.Fatalf("Save: %q, %v", sum, err)
	}
	got, err := LoadIALS(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params() != m.Params() || !slices.Equal(got.UserFactors(), m.UserFactors()) || !slices.Equal(got.ItemFactors(), m.ItemFactors()) {
		t.Fatal("loaded model differs")
	}
	ctx := t.Context()
	for u := range 10 {
		q := candidates.Query{History: historyOf(r, u, rand.New(rand.NewPCG(1, uint64(u))))}
		a, _ := m.Recommend(ctx, q, 20, nil, nil)
		b, _ := got.Recommend(ctx, q, 20, nil, nil)
		if !slices.Equal(a, b) {
			t.Fatalf("user %d: recommendations differ after load", u)
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
	}{
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }},
	} {
		if err := os.WriteFile(path, tc.edit(slices.Clone(data)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadIALS(path); !errors.Is(err, artifact.ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", tc.name, err)
		}
	}

	// The other model kind is refused.
	als, _, err := TrainALSMatrix(ctx, randomRatings(1, 10, 8, 4), DefaultALSParams(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := als.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIALS(path); !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("als file read as ials: %v", err)
	}
}

func TestIALSConcurrentRequests(t *testing.T) {
	m, r := trainSmallIALS(t)
	queries := make([]candidates.Query, r.Rows)
	want := make([][]candidates.Candidate, r.Rows)
	for u := range r.Rows {
		queries[u] = candidates.Query{User: int32(u), History: historyOf(r, u, rand.New(rand.NewPCG(2, uint64(u))))}
		want[u], _ = m.Recommend(t.Context(), queries[u], 10, nil, nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			var dst []candidates.Candidate
			for rep := range 20 {
				u := (g*7 + rep*3) % r.Rows
				dst, _ = m.Recommend(t.Context(), queries[u], 10, nil, dst)
				if !slices.Equal(dst, want[u]) {
					errs <- fmt.Errorf("goroutine %d, user %d: concurrent result differs", g, u)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestIALSEmptyMatrix(t *testing.T) {
	for _, dims := range [][2]int{{0, 0}, {3, 0}, {0, 4}, {3, 4}} {
		r := dataset.UserItemMatrix(nil, dims[0], dims[1], dataset.Count)
		m, stats, err := TrainIALSMatrix(t.Context(), r, testIALSParams(), quiet)
		if err != nil {
			t.Fatalf("%v: %v", dims, err)
		}
		// Without events every factor is zero: at most a list of zero scores, never an error.
		got, err := m.Recommend(t.Context(), candidates.Query{History: []int32{0}}, 5, nil, nil)
		if err != nil || len(got) > dims[1] {
			t.Fatalf("%v: recommended %v, %v", dims, got, err)
		}
		for _, c := range got {
			if c.Score != 0 {
				t.Fatalf("%v: score %v from an empty matrix", dims, c.Score)
			}
		}
		if stats.Loss[len(stats.Loss)-1] < 0 {
			t.Fatalf("%v: negative loss %v", dims, stats.Loss)
		}
	}
}

func TestIALSCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := TrainIALSMatrix(ctx, randomCounts(1, 20, 20, 3, 1, -1, -1), testIALSParams(), quiet)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	bad := &dataset.Matrix{Rows: 1, Cols: 1, Indptr: []int{0, 1}, Indices: []int32{0}, Values: []float32{-1}}
	if _, _, err := TrainIALSMatrix(t.Context(), bad, testIALSParams(), quiet); err == nil {
		t.Fatal("a negative count was accepted")
	}
}
