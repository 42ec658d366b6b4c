package als

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/params"
)

// lowRank returns ratings clamp(3 + uᵀv + noise, 1, 5) of a rank-3 world, as a generator.
func lowRank(seed uint64, rows, cols int) func(u, i int) float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	uf, vf := make([]float64, rows*3), make([]float64, cols*3)
	for j := range uf {
		uf[j] = rng.NormFloat64()
	}
	for j := range vf {
		vf[j] = rng.NormFloat64()
	}
	return func(u, i int) float32 {
		s := 3 + uf[u*3]*vf[i*3] + uf[u*3+1]*vf[i*3+1] + uf[u*3+2]*vf[i*3+2] + 0.1*rng.NormFloat64()
		return float32(min(5, max(1, s)))
	}
}

// randomRatings returns a rows×cols rating matrix with perRow ratings per row from lowRank.
func randomRatings(seed uint64, rows, cols, perRow int) *dataset.Matrix {
	rate := lowRank(seed, rows, cols)
	rng := rand.New(rand.NewPCG(seed, 4))
	var ev []dataset.Event
	for u := range rows {
		for _, i := range rng.Perm(cols)[:perRow] {
			ev = append(ev, dataset.Event{User: int32(u), Item: int32(i), Value: rate(u, i)})
		}
	}
	return dataset.UserItemMatrix(ev, rows, cols, dataset.LastValue)
}

func testALSParams() ALSParams {
	p := DefaultALSParams()
	p.Factors, p.Reg, p.Iterations = 6, 0.05, 8
	return p
}

func TestALSParamsValidate(t *testing.T) {
	if err := DefaultALSParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*ALSParams)
	}{
		{"factors", func(p *ALSParams) { p.Factors = -3 }},
		{"reg", func(p *ALSParams) { p.Reg = math.Inf(1) }},
		{"iterations", func(p *ALSParams) { p.Iterations = 0 }},
		{"workers", func(p *ALSParams) { p.Workers = -2 }},
	} {
		p := DefaultALSParams()
		tc.edit(&p)
		var fe params.FieldError
		if err := p.Validate(); !errors.As(err, &fe) || fe.Path != tc.field {
			t.Errorf("%s: got %v, want an error naming %q", tc.field, err, tc.field)
		}
	}
}

func TestALSLossDecreases(t *testing.T) {
	r := randomRatings(1, 150, 90, 15)
	m, stats, err := TrainALSMatrix(t.Context(), r, testALSParams(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(stats.Loss); i++ {
		if !(stats.Loss[i] < stats.Loss[i-1]) {
			t.Fatalf("loss went from %v to %v at iteration %d", stats.Loss[i-1], stats.Loss[i], i+1)
		}
	}
	got, err := m.Loss(t.Context(), r)
	if err != nil || relDiff(got, stats.Loss[len(stats.Loss)-1]) > 1e-12 {
		t.Fatalf("Loss() = %v, %v; last iteration %v", got, err, stats.Loss[len(stats.Loss)-1])
	}
}

func TestALSMatchesDense(t *testing.T) {
	// Short rows use Sger, rows of ≥ syrkMinRows ratings Ssyrk.
	for _, r := range []*dataset.Matrix{randomRatings(2, 9, 7, 4), randomRatings(2, 6, 80, 60)} {
		testALSMatchesDense(t, r)
	}
}

func testALSMatchesDense(t *testing.T, r *dataset.Matrix) {
	const k = 3
	p := testALSParams()
	p.Factors = k
	rng := newRNG(3)
	users, items := initFactors(rng, r.Rows, k), initFactors(rng, r.Cols, k)
	if err := explicitSweep(t.Context(), "user", r, items, users, k, p.Reg, []*rowSolver{newRowSolver(k)}); err != nil {
		t.Fatal(err)
	}
	for u := range r.Rows {
		idx, vals := r.Row(u)
		a := mat.NewSymDense(k, nil)
		b := mat.NewVecDense(k, nil)
		for n, i := range idx {
			y := mat.NewVecDense(k, nil)
			for d := range k {
				y.SetVec(d, float64(items[int(i)*k+d]))
			}
			a.SymRankOne(a, 1, y)
			b.AddScaledVec(b, float64(vals[n]), y)
		}
		for d := range k {
			a.SetSym(d, d, a.At(d, d)+p.Reg*float64(len(idx))) // weighted-λ
		}
		var x mat.VecDense
		if err := x.SolveVec(a, b); err != nil {
			t.Fatal(err)
		}
		for d := range k {
			if w := x.AtVec(d); math.Abs(float64(users[u*k+d])-w) > 1e-5*max(1, math.Abs(w)) {
				t.Fatalf("user %d factor %d: got %v, dense %v", u, d, users[u*k+d], w)
			}
		}
	}
}

func TestALSFoldInEqualsTraining(t *testing.T) {
	r := randomRatings(5, 40, 30, 6)
	m, _, err := TrainALSMatrix(t.Context(), r, testALSParams(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	k := m.Factors()
	nan := float32(math.NaN())
	for u := range r.Rows {
		idx, vals := r.Row(u)
		// An outdated rating first (the last one wins), an unrated view, unknown items.
		var items []int32
		var values []float32
		for n, i := range idx {
			items = append(items, i, i, i)
			values = append(values, 5-vals[n], nan, vals[n])
		}
		items = append(items, int32(r.Cols), -1)
		values = append(values, 3, 3)
		vec, ok := m.FoldIn(items, values, nil)
		if !ok || !slices.Equal(vec, m.UserFactors()[u*k:u*k+k]) {
			t.Fatalf("user %d: fold-in %v, training %v", u, vec, m.UserFactors()[u*k:u*k+k])
		}
	}
	if _, ok := m.FoldIn([]int32{1, 2}, []float32{nan, nan}, nil); ok {
		t.Fatal("fold-in without a rating reported ok")
	}
}

func TestALSFitsLowRank(t *testing.T) {
	const rows, cols = 300, 120
	rate := lowRank(9, rows, cols)
	rng := rand.New(rand.NewPCG(9, 9))
	var train []dataset.Event
	type pair struct {
		u, i int32
		v    float32
	}
	var test []pair
	var mean float64
	for u := range rows {
		for j, i := range rng.Perm(cols)[:30] {
			v := rate(u, i)
			if j < 5 {
				test = append(test, pair{int32(u), int32(i), v})
				continue
			}
			train = append(train, dataset.Event{User: int32(u), Item: int32(i), Value: v})
			mean += float64(v)
		}
		train = append(train, dataset.Event{User: int32(u), Item: 0, Value: float32(math.NaN())}) // unrated: ignored
	}
	mean /= float64(len(train) - rows)
	p := testALSParams()
	p.Factors = 8
	m, _, err := TrainALS(t.Context(), train, rows, cols, p, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var se, seMean float64
	k := m.Factors()
	for _, tp := range test {
		e := float64(m.Predict(m.UserFactors()[int(tp.u)*k:int(tp.u)*k+k], tp.i) - tp.v)
		se += e * e
		seMean += (mean - float64(tp.v)) * (mean - float64(tp.v))
	}
	rmse, base := math.Sqrt(se/float64(len(test))), math.Sqrt(seMean/float64(len(test)))
	t.Logf("held-out RMSE %.3f, global mean %.3f", rmse, base)
	if rmse > 0.6*base {
		t.Fatalf("held-out RMSE %.3f is not well below the global-mean baseline %.3f", rmse, base)
	}

	// Serving: Recommend ranks by predicted rating and agrees with Score.
	q := candidates.Query{History: []int32{1, 2, 3}, HistoryValues: []float32{5, 1, 4}}
	top, err := m.Recommend(t.Context(), q, 5, nil, nil)
	if err != nil || len(top) != 5 {
		t.Fatalf("Recommend: %v, %v", top, err)
	}
	scores := make([]float32, 6)
	if err := m.Score(t.Context(), q, []int32{top[0].Item, top[1].Item, top[2].Item, top[3].Item, top[4].Item, cols}, scores); err != nil {
		t.Fatal(err)
	}
	for j, c := range top {
		if scores[j] != c.Score {
			t.Fatalf("Score %v, Recommend %v", scores[j], c.Score)
		}
	}
	if !math.IsNaN(float64(scores[5])) {
		t.Fatal("unknown item must score NaN")
	}
	if got, _ := m.Recommend(t.Context(), candidates.Query{History: []int32{1}}, 5, nil, nil); len(got) != 0 {
		t.Fatal("a history without ratings must give no candidates")
	}

	if _, _, err := TrainALS(t.Context(), train[:0], rows, cols, p, quiet); err == nil {
		t.Fatal("training without ratings succeeded")
	}
}

func TestALSDeterministic(t *testing.T) {
	r := randomRatings(7, 200, 80, 10)
	var models []*ALSModel
	for _, w := range []int{1, 2} {
		p := testALSParams()
		p.Workers = w
		m, _, err := TrainALSMatrix(t.Context(), r, p, quiet)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	if !slices.Equal(models[0].UserFactors(), models[1].UserFactors()) || !slices.Equal(models[0].ItemFactors(), models[1].ItemFactors()) {
		t.Fatal("workers=2 gives other factors than workers=1")
	}
}

func TestALSSaveLoad(t *testing.T) {
	r := randomRatings(8, 30, 20, 5)
	m, _, err := TrainALSMatrix(t.Context(), r, testALSParams(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "als.model")
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadALS(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params() != m.Params() || !slices.Equal(got.ItemFactors(), m.ItemFactors()) || !slices.Equal(got.UserFactors(), m.UserFactors()) {
		t.Fatal("loaded model differs")
	}
	q := candidates.Query{History: []int32{1, 4}, HistoryValues: []float32{2, 5}}
	items := []int32{0, 5, 7}
	a, b := make([]float32, 3), make([]float32, 3)
	if err := m.Score(t.Context(), q, items, a); err != nil {
		t.Fatal(err)
	}
	if err := got.Score(t.Context(), q, items, b); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatalf("scores differ after load: %v vs %v", a, b)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-40] ^= 0x80
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadALS(path); !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("corrupt file: got %v, want ErrCorrupt", err)
	}
}
