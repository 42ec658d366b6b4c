package gbdt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/ranker/gbdt/internal/lambdapairs"
)

// synthRank makes a ranking set: informative features drive graded labels 0-4 through a
// nonlinear function plus noise, noise features carry nothing, and nanFrac of feature 1 is
// missing (its contribution then defaults to a fixed value so NaN itself is informative).
func synthRank(seed uint64, queries, docs, informative, noise int, nanFrac float64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	nf := informative + noise
	d := &Dataset{NumFeatures: nf, Source: "synth"}
	for q := 0; q < queries; q++ {
		for i := 0; i < docs; i++ {
			row := make([]float64, nf)
			for f := range row {
				row[f] = rng.NormFloat64()
			}
			r := 0.0
			for f := 0; f < informative; f++ {
				switch f % 3 {
				case 0:
					r += row[f]
				case 1:
					r += 0.7 * math.Abs(row[f])
				default:
					r += 0.5 * math.Sin(2*row[f])
				}
			}
			if informative > 1 && rng.Float64() < nanFrac {
				row[1] = math.NaN()
				r += 1
			}
			y := math.Floor(r + 1.5 + 0.5*rng.NormFloat64())
			d.X = append(d.X, row...)
			d.Labels = append(d.Labels, min(max(y, 0), 4))
			d.NumRows++
		}
		d.Groups = append(d.Groups, docs)
	}
	return d
}

func synthBinary(seed uint64, n, nf int) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	d := &Dataset{NumFeatures: nf, Source: "synth-binary"}
	for i := 0; i < n; i++ {
		row := make([]float64, nf)
		for f := range row {
			row[f] = rng.NormFloat64()
		}
		z := 1.5*row[0] - row[1]*row[1] + 0.8*row[2]*row[0] + 0.5
		y := 0.0
		if rng.Float64() < sigmoid(z) {
			y = 1
		}
		d.X = append(d.X, row...)
		d.Labels = append(d.Labels, y)
		d.NumRows++
	}
	return d
}

func smallParams(obj string) Params {
	p := DefaultParams(obj)
	p.NumTrees = 30
	p.NumLeaves = 15
	p.MinDataInLeaf = 10
	p.MinSumHessianInLeaf = 1e-3
	p.BaggingFraction = 0.8
	p.BaggingFreq = 1
	p.FeatureFraction = 0.8
	p.Seed = 3
	p.NumThreads = 2
	return p
}

func saveLoad(t *testing.T, m *Model) (*Model, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.txt")
	sum, err := m.Save(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(file)); sum != want {
		t.Fatalf("Save returned checksum %s, the file's is %s", sum, want)
	}
	var buf bytes.Buffer
	if n, err := m.WriteTo(&buf); err != nil || n != int64(buf.Len()) || !bytes.Equal(buf.Bytes(), file) {
		t.Fatalf("WriteTo: %d bytes (err %v), wrote %d; same as the file: %v", n, err, buf.Len(), bytes.Equal(buf.Bytes(), file))
	}
	lm, err := LoadFile(path)
	if err != nil {
		t.Fatalf("load saved model: %v\n%s", err, file[:min(len(file), 2000)])
	}
	return lm, file
}

// The trainer's own scores (accumulated by bins while training), the compiled scorer and
// leaves on the saved file must agree.
func TestTrainerMatchesLeaves(t *testing.T) {
	for _, tc := range []struct {
		name string
		data *Dataset
		obj  string
	}{
		{"lambdarank", synthRank(1, 60, 25, 4, 3, 0.1), ObjectiveLambdarank},
		{"binary", synthBinary(1, 3000, 5), ObjectiveBinary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, trainScores, err := trainModel(context.Background(), tc.data, nil, smallParams(tc.obj))
			if err != nil {
				t.Fatal(err)
			}
			lm, _ := saveLoad(t, m)
			d := tc.data
			leavesOut := make([]float64, d.NumRows)
			if err := lm.Leaves().PredictDense(d.X, d.NumRows, d.NumFeatures, leavesOut, 0, 1); err != nil {
				t.Fatal(err)
			}
			own := make([]float64, d.NumRows)
			if err := m.Score(d.X, own); err != nil {
				t.Fatal(err)
			}
			loaded := make([]float64, d.NumRows)
			if err := lm.Score(d.X, loaded); err != nil {
				t.Fatal(err)
			}
			maxDiff := 0.0
			for i := range own {
				d := math.Abs(trainScores[i] - leavesOut[i])
				maxDiff = max(maxDiff, d)
				if d > 1e-6 {
					t.Fatalf("row %d: trainer %v, leaves %v", i, trainScores[i], leavesOut[i])
				}
				if own[i] != leavesOut[i] || loaded[i] != leavesOut[i] {
					t.Fatalf("row %d: scorer %v, loaded %v, leaves %v", i, own[i], loaded[i], leavesOut[i])
				}
			}
			t.Logf("%d rows, %d trees: max |trainer - leaves| = %g; scorer = leaves exactly", d.NumRows, len(m.Trees), maxDiff)
		})
	}
}

// bruteLambdas recomputes LightGBM's λ-gradients from the pair definition: every pair with
// different labels where either document ranks within the truncation level.
func bruteLambdas(label, score []float64, trunc int, table *lambdapairs.Table) (lam, hes []float64) {
	n := len(label)
	gain := defaultLabelGain()
	rank := make([]int, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if score[a] > score[b] {
			return -1
		}
		if score[a] < score[b] {
			return 1
		}
		return 0
	})
	for r, i := range order {
		rank[i] = r
	}
	maxDCG := 0.0
	sorted := slices.Clone(label)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	for r := 0; r < min(trunc, n); r++ {
		maxDCG += gain[int(sorted[r])] / math.Log2(float64(r)+2)
	}
	lam, hes = make([]float64, n), make([]float64, n)
	if maxDCG == 0 {
		return
	}
	best, worst := score[order[0]], score[order[n-1]]
	sum := 0.0
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			if label[a] <= label[b] || min(rank[a], rank[b]) >= trunc {
				continue
			}
			ds := score[a] - score[b]
			dndcg := (gain[int(label[a])] - gain[int(label[b])]) *
				math.Abs(1/math.Log2(float64(rank[a])+2)-1/math.Log2(float64(rank[b])+2)) / maxDCG
			if best != worst {
				dndcg /= float64(float32(0.01)) + math.Abs(ds)
			}
			p := table.At(ds)
			l := -p * dndcg
			h := p * (1 - p) * dndcg
			lam[a] += l
			lam[b] -= l
			hes[a] += h
			hes[b] += h
			sum -= 2 * l
		}
	}
	if sum > 0 {
		f := math.Log2(1+sum) / sum
		for i := range lam {
			lam[i] *= f
			hes[i] *= f
		}
	}
	return
}

func TestLambdaGradientsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		name  string
		n     int
		trunc int
		ties  bool
	}{
		{"pair", 2, 30, false},
		{"five", 5, 30, false},
		{"ties", 8, 30, true},
		{"truncated", 9, 3, false},
		{"all equal scores", 6, 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for trial := 0; trial < 20; trial++ {
				label := make([]float64, tc.n)
				score := make([]float64, tc.n)
				for i := range label {
					label[i] = float64(rng.IntN(4))
					score[i] = rng.NormFloat64()
					if tc.ties {
						score[i] = float64(rng.IntN(2))
					}
					if tc.name == "all equal scores" {
						score[i] = 0.5
					}
				}
				d := &Dataset{NumRows: tc.n, NumFeatures: 1, X: make([]float64, tc.n), Labels: label, Groups: []int{tc.n}}
				p := DefaultParams(ObjectiveLambdarank)
				p.LambdarankTruncationLevel = tc.trunc
				o, err := newLambdarank(d, &p, 1)
				if err != nil {
					t.Fatal(err)
				}
				g, h := make([]float64, tc.n), make([]float64, tc.n)
				o.gradients(score, g, h)
				wg, wh := bruteLambdas(label, score, tc.trunc, o.table)
				// float32 accumulation (LightGBM's score_t): compare against the group's scale.
				gs, hs := maxAbs(wg), maxAbs(wh)
				for i := range g {
					if math.Abs(g[i]-wg[i]) > 1e-5*gs || math.Abs(h[i]-wh[i]) > 1e-5*hs {
						t.Fatalf("labels %v scores %v: doc %d: got (%g, %g), brute force (%g, %g)", label, score, i, g[i], h[i], wg[i], wh[i])
					}
				}
			}
		})
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func TestNDCGBeatsBestSingleFeature(t *testing.T) {
	train := synthRank(11, 150, 30, 4, 6, 0.05)
	test := synthRank(12, 80, 30, 4, 6, 0.05)
	p := smallParams(ObjectiveLambdarank)
	p.NumTrees = 60
	m, err := Train(context.Background(), train, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, test.NumRows)
	if err := m.Score(test.X, scores); err != nil {
		t.Fatal(err)
	}
	got, err := NDCG(test.Labels, scores, test.Groups, []int{10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bestSingle, bestF := 0.0, -1
	col := make([]float64, test.NumRows)
	for f := 0; f < test.NumFeatures; f++ {
		for _, sign := range []float64{1, -1} {
			for i := range col {
				col[i] = sign * test.X[i*test.NumFeatures+f]
				if math.IsNaN(col[i]) {
					col[i] = 0
				}
			}
			v, _ := NDCG(test.Labels, col, test.Groups, []int{10}, nil)
			if v[0] > bestSingle {
				bestSingle, bestF = v[0], f
			}
		}
	}
	t.Logf("model ndcg@10 %.4f, best single feature %d: %.4f", got[0], bestF, bestSingle)
	if got[0] <= bestSingle+0.02 {
		t.Fatalf("model ndcg@10 %.4f does not beat the best single feature (%d: %.4f)", got[0], bestF, bestSingle)
	}
}

func TestBinaryBeatsConstant(t *testing.T) {
	train := synthBinary(21, 4000, 6)
	test := synthBinary(22, 2000, 6)
	p := smallParams(ObjectiveBinary)
	p.EarlyStoppingRounds = 10
	p.NumTrees = 100
	var iters int
	m, err := Train(context.Background(), train, test, p, WithCallback(func(Iteration) { iters++ }))
	if err != nil {
		t.Fatal(err)
	}
	prob := make([]float64, test.NumRows)
	if err := m.Score(test.X, prob); err != nil {
		t.Fatal(err)
	}
	m.Transform(prob)
	mean := 0.0
	for _, y := range train.Labels {
		mean += y
	}
	mean /= float64(train.NumRows)
	constant := make([]float64, test.NumRows)
	for i := range constant {
		constant[i] = mean
	}
	got, base := Logloss(test.Labels, prob), Logloss(test.Labels, constant)
	t.Logf("logloss %.4f vs constant %.4f (%d trees kept of %d rounds)", got, base, len(m.Trees), iters)
	if got >= base*0.8 {
		t.Fatalf("logloss %.4f does not beat the constant baseline %.4f", got, base)
	}
	if len(m.Trees) >= iters {
		t.Logf("early stopping did not trigger in %d rounds", iters)
	}
}

func TestDeterministic(t *testing.T) {
	d := synthRank(5, 40, 20, 3, 3, 0.1)
	p := smallParams(ObjectiveLambdarank)
	p.NumTrees = 15
	var files [][]byte
	for _, threads := range []int{1, 2, 2} {
		p.NumThreads = threads
		m, err := Train(context.Background(), d, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		files = append(files, b.Bytes())
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("run %d wrote a different model than run 0", i)
		}
	}
	p.Seed++
	m, _ := Train(context.Background(), d, nil, p)
	var b bytes.Buffer
	m.WriteTo(&b)
	if bytes.Equal(b.Bytes(), files[0]) {
		t.Fatal("a different seed gave the same model (bagging/feature sampling ignore the seed?)")
	}
}

// The parallel histogram, split search and partition give the trees of the serial ones,
// whatever the number of workers.
func TestParallelPathsMatchSerial(t *testing.T) {
	d := synthRank(6, 60, 40, 4, 5, 0.1)
	p := smallParams(ObjectiveLambdarank)
	p.NumTrees = 20
	defer func(v int) { parallelMinWork = v }(parallelMinWork)
	var want []byte
	for _, tc := range []struct{ threads, minWork int }{{1, 1 << 30}, {2, 1}, {3, 1}, {2, 700}} {
		parallelMinWork = tc.minWork
		p.NumThreads = tc.threads
		m, err := Train(context.Background(), d, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b.Bytes()
		} else if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("%d threads, parallel from %d: a different model than serial", tc.threads, tc.minWork)
		}
	}
}

func TestTrainRespectsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Train(ctx, synthRank(1, 5, 10, 2, 1, 0), nil, smallParams(ObjectiveLambdarank))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Hand-computed: tree 0 splits f0 <= 0.5 (missing None) then f1 <= 1.5 (NaN goes left);
// tree 1 sends categories {1, 3} of f2 left (NaN and negatives go right).
func TestLoadV4Fixture(t *testing.T) {
	m, err := LoadFile("testdata/v4_two_trees.txt")
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	rows := [][]float64{
		{0.5, 0, 1},     // 0.1 - 0.05
		{0.6, 1.5, 2},   // 0.2 + 0.07
		{0.6, nan, 3},   // NaN left: 0.2 - 0.05
		{nan, 2, -1},    // NaN read as 0 (missing None): 0.1; negative category right: 0.07
		{1, 1.6, 3.9},   // 0.3; category 3: -0.05
		{1, 0, nan},     // 0.2; NaN category right: 0.07
		{0.50001, 9, 0}, // 0.3 + 0.07
	}
	want := []float64{0.05, 0.27, 0.15, 0.17, 0.25, 0.27, 0.37}
	flat := slices.Concat(rows...)
	got := make([]float64, len(rows))
	if err := m.Score(flat, got); err != nil {
		t.Fatal(err)
	}
	viaLeaves := make([]float64, len(rows))
	if err := m.Leaves().PredictDense(flat, len(rows), 3, viaLeaves, 0, 1); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 || math.Abs(viaLeaves[i]-want[i]) > 1e-12 {
			t.Errorf("row %v: scorer %v, leaves %v, want %v", rows[i], got[i], viaLeaves[i], want[i])
		}
	}
	if !slices.Equal(m.FeatureNames, []string{"f0", "f1", "f2"}) {
		t.Errorf("feature names %v", m.FeatureNames)
	}
	// Saving and loading again keeps the predictions.
	lm, _ := saveLoad(t, m)
	again := make([]float64, len(rows))
	lm.Score(flat, again)
	if !slices.Equal(again, got) {
		t.Errorf("after save/load %v, want %v", again, got)
	}
}

func TestLoadErrors(t *testing.T) {
	fixture, err := os.ReadFile("testdata/v4_two_trees.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"linear trees", "testdata/linear_tree.txt", "linear trees"},
		{"truncated in tree", string(fixture[:len(fixture)/2]), "truncated"},
		{"truncated between trees", string(fixture[:bytes.Index(fixture, []byte("Tree=1"))]), "truncated"},
		{"no trees", strings.SplitAfter(string(fixture), "tree_sizes=336 321\n\n")[0], "truncated"},
		{"version", strings.Replace(string(fixture), "version=v4", "version=v9", 1), "unsupported model version"},
		{"bad child", strings.Replace(string(fixture), "right_child=1 -3", "right_child=0 -3", 1), "child"},
		{"bad feature", strings.Replace(string(fixture), "split_feature=0 1", "split_feature=0 7", 1), "split_feature 7"},
		{"short array", strings.Replace(string(fixture), "threshold=0.5 1.5", "threshold=0.5", 1), "threshold has 1 values"},
		{"not a model", "hello\nworld\n", "not a LightGBM text model"},
		{"multiclass", strings.Replace(strings.Replace(string(fixture), "num_class=1", "num_class=3", 1), "num_tree_per_iteration=1", "num_tree_per_iteration=3", 1), "single-output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.file, "testdata/") {
				_, err = LoadFile(tc.file)
			} else {
				_, err = Load(strings.NewReader(tc.file))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if tc.name == "linear trees" && !errors.Is(err, ErrLinearTrees) {
				t.Fatalf("err = %v, want ErrLinearTrees", err)
			}
		})
	}
	// Every prefix of a valid file either loads (all trees present) or errors; never panics.
	for n := 0; n < len(fixture); n++ {
		m, err := Load(bytes.NewReader(fixture[:n]))
		if err == nil && len(m.Trees) != 2 {
			t.Fatalf("prefix %d loaded with %d trees", n, len(m.Trees))
		}
	}
}

func TestCheckFeatures(t *testing.T) {
	m, err := LoadFile("testdata/v4_two_trees.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckFeatures([]string{"f0", "f1", "f2"}); err != nil {
		t.Fatal(err)
	}
	err = m.CheckFeatures([]string{"f0", "f2", "price"})
	var fm *FeatureMismatchError
	if !errors.As(err, &fm) {
		t.Fatalf("err = %v, want *FeatureMismatchError", err)
	}
	if !slices.Equal(fm.Missing, []string{"f1"}) || !slices.Equal(fm.Extra, []string{"price"}) || len(fm.Moved) != 1 {
		t.Fatalf("mismatch %+v", fm)
	}
	for _, s := range []string{"f1", "price", "f2 (model column 2, schema column 1)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestSaveFormat(t *testing.T) {
	m, err := Train(context.Background(), synthRank(3, 20, 20, 3, 2, 0.2), nil, smallParams(ObjectiveLambdarank))
	if err != nil {
		t.Fatal(err)
	}
	_, b := saveLoad(t, m)
	s := string(b)
	for _, want := range []string{"tree\nversion=v3\n", "\nmax_feature_idx=4\n", "\nobjective=lambdarank\n", "\nfeature_names=Column_0 Column_1 Column_2 Column_3 Column_4\n", "\nend of trees\n\nfeature_importances:\n", "\nparameters:\n[boosting: gbdt]\n", "\nend of parameters\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("model file lacks %q", want)
		}
	}
	// tree_sizes are the byte lengths of the Tree= blocks.
	hdr, rest, _ := strings.Cut(s, "\n\n")
	var sizes []string
	for _, l := range strings.Split(hdr, "\n") {
		if v, ok := strings.CutPrefix(l, "tree_sizes="); ok {
			sizes = strings.Fields(v)
		}
	}
	off := 0
	for i, sz := range sizes {
		n := 0
		for _, c := range sz {
			n = n*10 + int(c-'0')
		}
		block := rest[off : off+n]
		if !strings.HasPrefix(block, "Tree=") || !strings.HasSuffix(block, "\n\n\n") {
			t.Fatalf("tree %d block does not start with Tree= and end with two empty lines: %q", i, block[max(0, len(block)-40):])
		}
		off += n
	}
	if !strings.HasPrefix(rest[off:], "end of trees\n") {
		t.Fatalf("after the trees: %q", rest[off:min(len(rest), off+30)])
	}
	// Every parameter line is [name: value].
	_, params, _ := strings.Cut(s, "parameters:\n")
	params, _, _ = strings.Cut(params, "end of parameters")
	for _, l := range strings.Split(strings.TrimSpace(params), "\n") {
		if !strings.HasPrefix(l, "[") || !strings.HasSuffix(l, "]") || !strings.Contains(l, ": ") {
			t.Errorf("parameter line %q", l)
		}
	}
}

func TestNDCGDefinition(t *testing.T) {
	// Query 1: no relevant document scores 1. Query 2: ties keep file order (stable sort).
	labels := []float64{0, 0, 0, 2, 0, 1}
	scores := []float64{3, 1, 2, 0.5, 0.5, 0.5}
	got, err := NDCG(labels, scores, []int{3, 3}, []int{1, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Query 2 ranks 2, 0, 1 (file order): DCG@1 = 3, ideal 3; DCG@3 = 3 + 1/log2(4).
	ideal3 := 3 + 1/math.Log2(3)
	want := []float64{(1 + 1) / 2, (1 + (3+0.5)/ideal3) / 2}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("ndcg[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// LightGBM 4.6's example: the trainer must reproduce LightGBM's trees, hence its NDCG, and
// the loader its predictions.
func TestLightGBMExample(t *testing.T) {
	dir := sharedDataset(t, "ltr-lightgbm-example")
	train, err := ReadDataset(filepath.Join(dir, "rank.train"), ReadOptions{RequireGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	test, err := ReadDataset(filepath.Join(dir, "rank.test"), ReadOptions{RequireGroups: true, MinFeatures: train.NumFeatures})
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultParams(ObjectiveLambdarank)
	p.NumTrees, p.NumLeaves, p.LearningRate = 100, 31, 0.1
	p.MinDataInLeaf, p.MinSumHessianInLeaf = 50, 5
	p.BaggingFraction, p.BaggingFreq, p.Seed = 0.9, 1, 7
	m, err := Train(context.Background(), train, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, test.NumRows)
	if err := m.Score(test.X, scores); err != nil {
		t.Fatal(err)
	}
	got, _ := NDCG(test.Labels, scores, test.Groups, []int{1, 3, 5, 10}, nil)
	want := []float64{0.654095, 0.663282, 0.705501, 0.769029} // README, LightGBM 4.6
	for i := range want {
		if math.Abs(got[i]-want[i]) > 0.01*want[i] {
			t.Errorf("ndcg@%d = %.6f, LightGBM %.6f", []int{1, 3, 5, 10}[i], got[i], want[i])
		}
	}
	t.Logf("ndcg@1,3,5,10 = %.6f (LightGBM %v)", got, want)

	ref, err := LoadFile(filepath.Join(dir, "lightgbm-4.6-lambdarank-model.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Same seed, same bags, same gradients: LightGBM's trees, split for split.
	if len(m.Trees) != len(ref.Trees) {
		t.Fatalf("%d trees, LightGBM %d", len(m.Trees), len(ref.Trees))
	}
	for i, tr := range m.Trees {
		rt := ref.Trees[i]
		if !slices.Equal(tr.SplitFeature, rt.SplitFeature) || !slices.Equal(tr.Threshold, rt.Threshold) ||
			!slices.Equal(tr.LeftChild, rt.LeftChild) || !slices.Equal(tr.RightChild, rt.RightChild) ||
			!slices.Equal(tr.LeafCount, rt.LeafCount) || !slices.Equal(tr.DecisionType, rt.DecisionType) {
			t.Fatalf("tree %d differs from LightGBM's:\nsplit_feature %v\nLightGBM      %v", i, tr.SplitFeature, rt.SplitFeature)
		}
		for j, v := range tr.LeafValue {
			if math.Abs(v-rt.LeafValue[j]) > 1e-12 {
				t.Fatalf("tree %d leaf %d: %v, LightGBM %v", i, j, v, rt.LeafValue[j])
			}
		}
	}
	if !slices.Equal(m.FeatureInfos, ref.FeatureInfos) {
		t.Errorf("feature_infos differ from LightGBM's")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "lightgbm-4.6-rank.test.predictions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(raw))
	if len(lines) != test.NumRows {
		t.Fatalf("%d predictions for %d rows", len(lines), test.NumRows)
	}
	if err := ref.Score(test.X[:test.NumRows*ref.NumFeatures], scores); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		w, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(scores[i]-w) > 1e-9 {
			t.Fatalf("row %d: %v, LightGBM %v", i, scores[i], w)
		}
	}
}

func TestLoadVariants(t *testing.T) {
	fixture, err := os.ReadFile("testdata/v4_two_trees.txt")
	if err != nil {
		t.Fatal(err)
	}
	var minimal []string
	for _, l := range strings.SplitAfter(string(fixture), "\n") {
		k, _, _ := strings.Cut(l, "=")
		switch k {
		case "split_gain", "leaf_weight", "leaf_count", "internal_value", "internal_weight", "internal_count":
			continue
		}
		minimal = append(minimal, l)
	}
	rows := []float64{0.6, math.NaN(), 3, 1, 1.6, 3.9}
	want := []float64{0.15, 0.25}
	for _, tc := range []struct{ name, file string }{
		{"v4", string(fixture)},
		{"v3", strings.Replace(string(fixture), "version=v4", "version=v3", 1)},
		{"v2", strings.Replace(string(fixture), "version=v4", "version=v2", 1)},
		{"crlf", strings.ReplaceAll(string(fixture), "\n", "\r\n")},
		// tree_sizes are ignored by the parser; only the core keys are required.
		{"minimal keys", strings.Join(minimal, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(strings.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			lm, _ := saveLoad(t, m) // and survives Save
			for _, mm := range []*Model{m, lm} {
				got := make([]float64, 2)
				if err := mm.Score(rows, got); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12 {
						t.Fatalf("row %d: %v, want %v", i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestTreeConstraints(t *testing.T) {
	d := synthRank(8, 60, 30, 4, 4, 0.1)
	for _, tc := range []struct {
		name  string
		apply func(*Params)
		check func(*Tree) string
	}{
		{"max depth", func(p *Params) { p.MaxDepth = 2 }, func(tr *Tree) string {
			if depth := treeDepth(tr, 0); depth > 2 {
				return fmt.Sprintf("depth %d > 2", depth)
			}
			return ""
		}},
		{"num leaves", func(p *Params) { p.NumLeaves = 5 }, func(tr *Tree) string {
			if tr.NumLeaves > 5 {
				return fmt.Sprintf("%d leaves > 5", tr.NumLeaves)
			}
			return ""
		}},
		{"min gain", func(p *Params) { p.MinGainToSplit = 1e9 }, func(tr *Tree) string {
			if tr.NumLeaves > 1 {
				return fmt.Sprintf("split with gain below min_gain_to_split: %v", tr.SplitGain)
			}
			return ""
		}},
		{"min sum hessian", func(p *Params) { p.MinSumHessianInLeaf = 2 }, func(tr *Tree) string {
			for i, w := range tr.LeafWeight {
				if w < 2 {
					return fmt.Sprintf("leaf %d has hessian sum %v < 2", i, w)
				}
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := smallParams(ObjectiveLambdarank)
			p.NumTrees = 10
			tc.apply(&p)
			m, err := Train(context.Background(), d, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			for i, tr := range m.Trees {
				if msg := tc.check(tr); msg != "" {
					t.Fatalf("tree %d: %s", i, msg)
				}
			}
		})
	}
}

func TestEarlyStopping(t *testing.T) {
	train := synthRank(41, 40, 20, 3, 3, 0)
	valid := synthRank(42, 30, 20, 3, 3, 0)
	p := smallParams(ObjectiveLambdarank)
	p.NumTrees, p.LearningRate, p.EarlyStoppingRounds, p.EvalAt = 400, 0.5, 5, []int{5, 10}
	var its []Iteration
	m, err := Train(context.Background(), train, valid, p, WithCallback(func(it Iteration) { its = append(its, it) }))
	if err != nil {
		t.Fatal(err)
	}
	last := its[len(its)-1]
	if len(its) == p.NumTrees || len(its) != last.Best+1+p.EarlyStoppingRounds {
		t.Fatalf("%d rounds, best %d: expected a stop %d rounds after the best", len(its), last.Best, p.EarlyStoppingRounds)
	}
	if len(m.Trees) != last.Best+1 {
		t.Fatalf("model keeps %d trees, best round %d", len(m.Trees), last.Best)
	}
	if last.Valid[0].Name != "ndcg@5" || its[last.Best].Valid[0].Value < last.Valid[0].Value {
		t.Fatalf("metrics %+v", last.Valid)
	}
}

// BenchmarkBuildHist is one histogram of 30 features × 255 bins: the root (180,000 bagged
// rows of 200,000, in order) and a leaf of 20,000 rows scattered over them.
func BenchmarkBuildHist(b *testing.B) {
	const rows, nf = 200000, 30
	rng := rand.New(rand.NewPCG(5, 5))
	bd := &binned{rows: rows, cols: make([][]uint8, nf)}
	mappers := make([]*binMapper, nf)
	for f := range bd.cols {
		bd.cols[f] = make([]uint8, rows)
		for r := range bd.cols[f] {
			bd.cols[f][r] = uint8(rng.IntN(255))
		}
		mappers[f] = &binMapper{upper: make([]float64, 255)}
	}
	p := synthParams()
	l := newLearner(&p, bd, mappers, 1)
	for r := range l.gh {
		l.gh[r] = histBin{rng.NormFloat64(), rng.Float64()}
	}
	feats := make([]int, nf)
	for f := range feats {
		feats[f] = f
	}
	for _, tc := range []struct {
		name string
		keep float64
	}{{"root", 0.9}, {"leaf", 0.1}} {
		var rs []int32
		for r := 0; r < rows; r++ {
			if rng.Float64() < tc.keep {
				rs = append(rs, int32(r))
			}
		}
		ordered := make([]histBin, len(rs))
		for i, r := range rs {
			ordered[i] = l.gh[r]
		}
		b.Run(tc.name, func(b *testing.B) {
			c0 := processCPU()
			for i := 0; i < b.N; i++ {
				l.buildHist(rs, ordered, l.hist[0], feats)
			}
			reportCPU(b, c0)
		})
	}
}
