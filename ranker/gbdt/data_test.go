package gbdt

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadData(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		text   string
		format Format
		x      []float64
		labels []float64
		groups []int
	}{
		{"tsv", "1\t0.5\t2\n0\t-1\t3\t\n", FormatTSV, []float64{0.5, 2, -1, 3}, []float64{1, 0}, nil},
		{"csv with missing", "1,0.5,\n0,na,3\n", FormatTSV, []float64{0.5, nan, nan, 3}, []float64{1, 0}, nil},
		{"spaces", "2  1.5 NaN\n\n0 1 2\n", FormatTSV, []float64{1.5, nan, 1, 2}, []float64{2, 0}, nil},
		{"libsvm", "1 0:1.5 2:3\n0 1:-1\n", FormatLibSVM, []float64{1.5, 0, 3, 0, -1, 0}, []float64{1, 0}, nil},
		{"libsvm qid", "2 qid:7 1:1\n0 qid:7 2:1\n1 qid:9 1:2\n", FormatLibSVM, []float64{0, 1, 0, 0, 0, 1, 0, 2, 0}, []float64{2, 0, 1}, []int{2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadData(strings.NewReader(tc.text), "x.txt", 0)
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != tc.format {
				t.Errorf("format %v, want %v", d.Format, tc.format)
			}
			if !slices.EqualFunc(d.X, tc.x, func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }) {
				t.Errorf("X = %v, want %v", d.X, tc.x)
			}
			if !slices.Equal(d.Labels, tc.labels) || !slices.Equal(d.Groups, tc.groups) {
				t.Errorf("labels %v groups %v, want %v %v", d.Labels, d.Groups, tc.labels, tc.groups)
			}
		})
	}
}

func TestReadErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, data, query string
		opt               ReadOptions
		want              string
	}{
		{"bad number", "1\t2\n0\tx\n", "", ReadOptions{}, "bad_number.tsv:2: column 2"},
		{"ragged", "1\t2\t3\n\n0\t1\n", "", ReadOptions{}, "ragged.tsv:3: 1 features, the first row has 2"},
		{"libsvm index", "1 1:2\n0 a:1\n", "", ReadOptions{}, "libsvm_index.tsv:2: feature index"},
		{"query value", "1\t2\n0\t1\n", "2\nx\n", ReadOptions{}, "query_value.tsv.query:2"},
		{"query sum", "1\t2\n0\t1\n", "3\n", ReadOptions{}, "group sizes sum to 3"},
		{"needs groups", "1\t2\n", "", ReadOptions{RequireGroups: true}, "no query groups"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := strings.ReplaceAll(tc.name, " ", "_") + ".tsv"
			p := write(base, tc.data)
			if tc.query != "" {
				write(base+".query", tc.query)
			}
			_, err := ReadDataset(p, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Label errors surface at training time with file:line.
	p := write("labels.tsv", "1\t2\n0\t1\n2.5\t3\n")
	write("labels.tsv.query", "3\n")
	d, err := ReadDataset(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultParams(ObjectiveLambdarank)
	if _, err := newLambdarank(d, &o, 1); err == nil || !strings.Contains(err.Error(), "labels.tsv:3: label 2.5") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadScores(t *testing.T) {
	got, err := ReadScores(strings.NewReader("0.5\n\n  -2 0.1\r\n1e3\n"), "pred.txt")
	if err != nil || !slices.Equal(got, []float64{0.5, -2, 1000}) {
		t.Fatalf("scores %v, err %v", got, err)
	}
	if _, err := ReadScores(strings.NewReader("1\n\nhigh\n"), "pred.txt"); err == nil || err.Error() != `pred.txt:3: score "high" is not a number` {
		t.Fatalf("err = %v", err)
	}
}

func TestBinMapper(t *testing.T) {
	// Few distinct values: a zero bin, then one bin each, bounds just above the midpoints.
	m := newBinMapper([]float64{1, 1, 1, 2, 2, 2, 3, 3, 3, math.NaN()}, 255, 0)
	if len(m.upper) != 4 || !m.hasNaN || m.numBins() != 5 {
		t.Fatalf("upper %v hasNaN %v", m.upper, m.hasNaN)
	}
	if m.upper[0] != kZeroThreshold || m.upper[1] != math.Nextafter(1.5, 2) {
		t.Errorf("bounds %v", m.upper)
	}
	for v, want := range map[float64]uint8{0: 0, 1: 1, 1.5: 1, 1.6: 2, 3: 3, 100: 3} {
		if got := m.bin(v); got != want {
			t.Errorf("bin(%v) = %d, want %d", v, got, want)
		}
	}
	if m.bin(math.NaN()) != 4 {
		t.Errorf("NaN bin %d", m.bin(math.NaN()))
	}
	// Many distinct values: at most maxBin bins, roughly equal counts.
	vals := make([]float64, 10000)
	for i := range vals {
		vals[i] = float64(i)
	}
	m = newBinMapper(vals, 16, 0)
	if len(m.upper) > 16 || len(m.upper) < 14 {
		t.Fatalf("%d bins", len(m.upper))
	}
	counts := make([]int, len(m.upper))
	for _, v := range vals {
		counts[m.bin(v)]++
	}
	for b, c := range counts[1:] { // bin 0 holds the zero alone
		if c < 10000/16/2 || c > 10000/16*2 {
			t.Errorf("bin %d has %d values", b, c)
		}
	}
	// Without NaN in training, NaN is read as 0.
	m = newBinMapper([]float64{-1, -1, -1, 0, 0, 0, 1, 1, 1}, 255, 0)
	if m.bin(math.NaN()) != m.bin(0) || m.numBins() != 3 {
		t.Errorf("NaN bin %d, zero bin %d, %d bins", m.bin(math.NaN()), m.bin(0), m.numBins())
	}
	// feature_pre_filter: no bound leaves 5 samples on each side.
	if m := newBinMapper([]float64{0, 0, 0, 0, 0, 0, 0, 1, 1}, 255, 5); !m.trivial() {
		t.Errorf("feature with 2 samples above zero not filtered: %v", m.upper)
	}
}

// sortFloats agrees with slices.Sort, signs, duplicates and infinities included.
func TestSortFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{0, 1, 5, 1023, 1024, 5000, 200000} {
		v := make([]float64, n)
		for i := range v {
			switch rng.IntN(6) {
			case 0:
				v[i] = float64(rng.IntN(5) - 2) // duplicates, zero
			case 1:
				v[i] = math.Inf(2*rng.IntN(2) - 1)
			case 2:
				v[i] = rng.NormFloat64() * 1e-300
			default:
				v[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
			}
		}
		want := slices.Clone(v)
		slices.Sort(want)
		sortFloats(v)
		for i := range v {
			if math.Float64bits(v[i]) != math.Float64bits(want[i]) {
				t.Fatalf("n=%d: [%d] = %v, want %v", n, i, v[i], want[i])
			}
		}
	}
}
