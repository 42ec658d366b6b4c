package gbdt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dmitryikh/leaves"
)

// ErrLinearTrees is returned for models with linear trees (is_linear=1), which leaves would
// silently mispredict.
var ErrLinearTrees = errors.New("linear trees (is_linear=1) are not supported")

// LoadFile reads a LightGBM text model (see Load).
func LoadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := LoadBytes(b, path)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads a LightGBM text model (model.txt, header version v2 to v4) from r. The file is
// validated in full (header, every tree's arrays and structure) so that a truncated or
// corrupt file is an error, then loaded through leaves with raw outputs. Models with linear
// trees or more than one output are refused.
func Load(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("gbdt: read model: %w", err)
	}
	return LoadBytes(b, "model")
}

// LoadBytes is Load on a byte slice; name is used in errors.
func LoadBytes(b []byte, name string) (*Model, error) {
	m, version, err := parseModel(b, name)
	if err != nil {
		return nil, err
	}
	// leaves reads v2/v3 only; v4 differs from v3 only by an optional trailing parser block,
	// so with linear trees refused above the header can be rewritten.
	if bytes.Contains(b, []byte("\r\n")) {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	}
	if version == "v4" {
		b = bytes.Replace(b, []byte("\nversion=v4\n"), []byte("\nversion=v3\n"), 1)
	}
	ens, err := leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(b)), false)
	if err != nil {
		return nil, fmt.Errorf("%s: leaves: %w", name, err)
	}
	if ens.NEstimators() != len(m.Trees) {
		return nil, fmt.Errorf("%s: leaves read %d trees, the file has %d", name, ens.NEstimators(), len(m.Trees))
	}
	m.ens = ens
	if err := m.compile(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := m.crossCheck(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// crossCheck scores rows built from the model's own thresholds (values just below, at and
// just above each split point, plus NaN for numerical features) with both the compiled
// scorer and leaves, which must agree: Score is fast, leaves is the reference reader.
func (m *Model) crossCheck() error {
	const rows = 32
	nf := m.NumFeatures
	points := make([][]float64, nf)
	categorical := make([]bool, nf)
	for _, t := range m.Trees {
		for i, f := range t.SplitFeature {
			if t.DecisionType[i]&decCategorical != 0 {
				categorical[f] = true
				continue
			}
			thr := t.Threshold[i]
			points[f] = append(points[f], math.Nextafter(thr, math.Inf(-1)), thr, math.Nextafter(thr, math.Inf(1)))
		}
	}
	x := make([]float64, rows*nf)
	r := lgbRand{x: 12345}
	for i := range x {
		f := i % nf
		switch p := points[f]; {
		case categorical[f]:
			x[i] = float64(r.int16() % 40) // leaves and LightGBM agree on non-negative categories
		case len(p) == 0 || r.int16()%16 == 0:
			if !categorical[f] {
				x[i] = math.NaN()
			}
		default:
			x[i] = p[r.int16()%len(p)]
		}
	}
	got := make([]float64, rows)
	want := make([]float64, rows)
	if err := m.Score(x, got); err != nil {
		return err
	}
	if err := m.ens.PredictDense(x, rows, nf, want, 0, 1); err != nil {
		return fmt.Errorf("leaves: %w", err)
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= 1e-9*math.Max(1, math.Abs(want[i]))) {
			return fmt.Errorf("gbdt: scorer and leaves disagree on test row %d (%v vs %v); please report this model", i, got[i], want[i])
		}
	}
	return nil
}

// Leaves returns the leaves ensemble of a loaded model (nil for a model that was trained and
// not loaded).
func (m *Model) Leaves() *leaves.Ensemble { return m.ens }

type lineReader struct {
	name    string
	rest    []byte
	line    int
	partial bool // the last line returned had no newline: the file may be cut
}

func (r *lineReader) next() (string, bool) {
	if len(r.rest) == 0 {
		return "", false
	}
	i := bytes.IndexByte(r.rest, '\n')
	var s []byte
	r.partial = i < 0
	if i < 0 {
		s, r.rest = r.rest, nil
	} else {
		s, r.rest = r.rest[:i], r.rest[i+1:]
	}
	r.line++
	return strings.TrimRight(string(s), "\r"), true
}

func (r *lineReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", r.name, r.line, fmt.Sprintf(format, args...))
}

// parseModel reads and validates the header and every tree.
func parseModel(b []byte, name string) (*Model, string, error) {
	lr := &lineReader{name: name, rest: b}
	first, ok := lr.next()
	if !ok {
		return nil, "", fmt.Errorf("%s: empty model file", name)
	}
	if strings.TrimSpace(first) != "tree" {
		return nil, "", lr.errorf("not a LightGBM text model (first line %q, want \"tree\")", trunc(first))
	}
	hdr := map[string]string{}
	m := &Model{}
	for {
		s, ok := lr.next()
		if !ok {
			return nil, "", fmt.Errorf("%s: truncated: the file ends inside the header", name)
		}
		if strings.TrimSpace(s) == "" {
			break
		}
		if lr.partial {
			return nil, "", lr.errorf("truncated: the file ends inside the header")
		}
		k, v, found := strings.Cut(s, "=")
		if !found {
			if s == "average_output" {
				m.AverageOutput = true
				continue
			}
			return nil, "", lr.errorf("header line %q is not key=value", trunc(s))
		}
		hdr[k] = v
	}
	version := hdr["version"]
	switch version {
	case "v2", "v3", "v4":
	case "":
		return nil, "", fmt.Errorf("%s: header has no version", name)
	default:
		return nil, "", fmt.Errorf("%s: unsupported model version %q (want v2, v3 or v4)", name, version)
	}
	getInt := func(k string) (int, error) {
		v, ok := hdr[k]
		if !ok {
			return 0, fmt.Errorf("%s: header has no %s", name, k)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%s: header %s=%q is not an integer", name, k, trunc(v))
		}
		return n, nil
	}
	nc, err := getInt("num_class")
	if err != nil {
		return nil, "", err
	}
	ntpi, err := getInt("num_tree_per_iteration")
	if err != nil {
		return nil, "", err
	}
	if nc != 1 || ntpi != 1 {
		return nil, "", fmt.Errorf("%s: num_class=%d, num_tree_per_iteration=%d: only single-output models are supported", name, nc, ntpi)
	}
	maxIdx, err := getInt("max_feature_idx")
	if err != nil {
		return nil, "", err
	}
	if maxIdx < 0 || maxIdx > 1<<24 {
		return nil, "", fmt.Errorf("%s: max_feature_idx=%d out of range", name, maxIdx)
	}
	m.NumFeatures = maxIdx + 1
	m.Objective = hdr["objective"]
	if v, ok := hdr["feature_names"]; ok {
		m.FeatureNames = strings.Fields(v)
		if len(m.FeatureNames) != m.NumFeatures {
			return nil, "", fmt.Errorf("%s: %d feature_names for max_feature_idx=%d", name, len(m.FeatureNames), maxIdx)
		}
	} else {
		m.FeatureNames = make([]string, m.NumFeatures)
		for i := range m.FeatureNames {
			m.FeatureNames[i] = "Column_" + strconv.Itoa(i)
		}
	}
	if v, ok := hdr["feature_infos"]; ok {
		m.FeatureInfos = strings.Fields(v)
	}
	if len(m.FeatureInfos) != m.NumFeatures {
		m.FeatureInfos = make([]string, m.NumFeatures)
		for i := range m.FeatureInfos {
			m.FeatureInfos[i] = "none"
		}
	}
	ts, ok := hdr["tree_sizes"]
	if !ok {
		return nil, "", fmt.Errorf("%s: header has no tree_sizes", name)
	}
	nTrees := len(strings.Fields(ts))
	if nTrees == 0 {
		return nil, "", fmt.Errorf("%s: tree_sizes is empty: no trees", name)
	}

	for len(m.Trees) < nTrees {
		s, ok := lr.next()
		if !ok {
			return nil, "", fmt.Errorf("%s: truncated: tree_sizes lists %d trees, the file ends after %d", name, nTrees, len(m.Trees))
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		if s == "end of trees" {
			return nil, "", lr.errorf("truncated: tree_sizes lists %d trees, found %d", nTrees, len(m.Trees))
		}
		if !strings.HasPrefix(s, "Tree=") {
			return nil, "", lr.errorf("expected Tree=%d, found %q", len(m.Trees), trunc(s))
		}
		if s != "Tree="+strconv.Itoa(len(m.Trees)) {
			return nil, "", lr.errorf("expected Tree=%d, found %q", len(m.Trees), trunc(s))
		}
		t, err := parseTree(lr, m.NumFeatures)
		if err != nil {
			return nil, "", fmt.Errorf("tree %d: %w", len(m.Trees), err)
		}
		m.Trees = append(m.Trees, t)
	}
	return m, version, nil
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// parseTree reads one tree's key=value lines up to the blank line and validates it.
func parseTree(lr *lineReader, nf int) (*Tree, error) {
	start := lr.line
	kv := map[string]string{}
	for {
		s, ok := lr.next()
		if !ok {
			return nil, fmt.Errorf("%s:%d: truncated: the file ends inside the tree", lr.name, start)
		}
		if strings.TrimSpace(s) == "" {
			break
		}
		if lr.partial {
			return nil, lr.errorf("truncated: the file ends inside the tree, in %q", trunc(s))
		}
		k, v, found := strings.Cut(s, "=")
		if !found {
			return nil, lr.errorf("tree line %q is not key=value", trunc(s))
		}
		kv[k] = v
	}
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", lr.name, start, fmt.Sprintf(format, args...))
	}
	if kv["is_linear"] == "1" {
		return nil, fmt.Errorf("%s:%d: %w (leaves would ignore the linear coefficients and mispredict)", lr.name, start, ErrLinearTrees)
	}
	r := &treeKeys{kv: kv, errf: errf}
	t := &Tree{NumLeaves: r.atoi("num_leaves")}
	if r.err == nil && (t.NumLeaves < 1 || t.NumLeaves > 1<<24) {
		return nil, errf("num_leaves=%d out of range", t.NumLeaves)
	}
	if t.NumCat = r.atoi("num_cat"); r.err == nil && t.NumCat < 0 {
		return nil, errf("num_cat=%d < 0", t.NumCat)
	}
	L := t.NumLeaves
	t.LeafValue = r.floats("leaf_value", L, true)
	if r.err != nil {
		return nil, r.err
	}
	if sh, ok := kv["shrinkage"]; ok {
		t.Shrinkage, _ = strconv.ParseFloat(strings.TrimSpace(sh), 64)
	}
	if L == 1 {
		return t, nil
	}
	nn := L - 1
	t.SplitFeature = r.ints("split_feature", nn, true)
	t.Threshold = r.floats("threshold", nn, true)
	dts := r.ints("decision_type", nn, true)
	t.LeftChild = r.ints("left_child", nn, true)
	t.RightChild = r.ints("right_child", nn, true)
	t.SplitGain = r.floats("split_gain", nn, false)
	t.LeafWeight = r.floats("leaf_weight", L, false)
	t.LeafCount = r.ints("leaf_count", L, false)
	t.InternalValue = r.floats("internal_value", nn, false)
	t.InternalWeight = r.floats("internal_weight", nn, false)
	t.InternalCount = r.ints("internal_count", nn, false)
	if t.NumCat > 0 {
		t.CatBoundaries = r.ints("cat_boundaries", t.NumCat+1, true)
		cw := r.ints("cat_threshold", -1, true)
		if r.err != nil {
			return nil, r.err
		}
		t.CatThreshold = make([]uint32, len(cw))
		for i, w := range cw {
			if w < 0 || w > math.MaxUint32 {
				return nil, errf("cat_threshold word %d out of range", w)
			}
			t.CatThreshold[i] = uint32(w)
		}
		if t.CatBoundaries[0] != 0 || t.CatBoundaries[t.NumCat] != len(cw) {
			return nil, errf("cat_boundaries do not span cat_threshold (%d words)", len(cw))
		}
		for i := 1; i <= t.NumCat; i++ {
			if t.CatBoundaries[i] < t.CatBoundaries[i-1] {
				return nil, errf("cat_boundaries decrease at %d", i)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	t.DecisionType = make([]uint8, nn)
	for i, d := range dts {
		if d < 0 || d > 15 || missingType(uint8(d)) == 3 {
			return nil, errf("node %d: invalid decision_type %d", i, d)
		}
		t.DecisionType[i] = uint8(d)
		if f := t.SplitFeature[i]; f < 0 || f >= nf {
			return nil, errf("node %d: split_feature %d outside [0, %d]", i, f, nf-1)
		}
		if d&decCategorical != 0 {
			c := t.Threshold[i]
			if c < 0 || c >= float64(t.NumCat) || c != math.Trunc(c) {
				return nil, errf("node %d: categorical threshold %v is not a category set index below num_cat=%d", i, c, t.NumCat)
			}
		}
	}
	if err := t.checkStructure(); err != nil {
		return nil, errf("%v", err)
	}
	return t, nil
}

// treeKeys reads the values of a tree's keys. It keeps the first error, after which every read
// returns the zero value, so that a tree's keys read in sequence report the first bad one.
type treeKeys struct {
	kv   map[string]string
	errf func(format string, args ...any) error
	err  error
}

func (r *treeKeys) atoi(k string) int {
	if r.err != nil {
		return 0
	}
	v, ok := r.kv[k]
	if !ok {
		r.err = r.errf("missing %s", k)
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.err = r.errf("%s=%q is not an integer", k, trunc(v))
	}
	return n
}

// fields returns the values of k, which must number n (any number when n < 0); nil when k is
// absent and not required.
func (r *treeKeys) fields(k string, n int, required bool) []string {
	if r.err != nil {
		return nil
	}
	v, ok := r.kv[k]
	if !ok {
		if required {
			r.err = r.errf("missing %s", k)
		}
		return nil
	}
	f := strings.Fields(v)
	if n >= 0 && len(f) != n {
		r.err = r.errf("%s has %d values, want %d", k, len(f), n)
		return nil
	}
	return f
}

func (r *treeKeys) floats(k string, n int, required bool) []float64 {
	return treeValues(r, k, n, required, func(s string, i int) (float64, string) {
		x, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, fmt.Sprintf("%q is not a number", trunc(s))
		case math.IsNaN(x):
			return 0, fmt.Sprintf("%d is NaN", i)
		}
		return x, ""
	})
}

func (r *treeKeys) ints(k string, n int, required bool) []int {
	return treeValues(r, k, n, required, func(s string, _ int) (int, string) {
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Sprintf("%q is not an integer", trunc(s))
		}
		return int(x), ""
	})
}

// treeValues parses the values of k (see fields); parse describes a bad value i.
func treeValues[T any](r *treeKeys, k string, n int, required bool, parse func(s string, i int) (T, string)) []T {
	f := r.fields(k, n, required)
	if f == nil {
		return nil
	}
	out := make([]T, len(f))
	for i, s := range f {
		x, bad := parse(s, i)
		if bad != "" {
			r.err = r.errf("%s value %s", k, bad)
			return nil
		}
		out[i] = x
	}
	return out
}

// checkStructure verifies that the child arrays form one tree rooted at node 0 in which
// every internal node and leaf is reached exactly once (so prediction always terminates).
func (t *Tree) checkStructure() error {
	nn := t.NumLeaves - 1
	seenNode := make([]bool, nn)
	seenLeaf := make([]bool, t.NumLeaves)
	stack := []int{0}
	seenNode[0] = true
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range [2]int{t.LeftChild[n], t.RightChild[n]} {
			if c >= 0 {
				if c >= nn || seenNode[c] {
					return fmt.Errorf("node %d: child %d is not an unused internal node", n, c)
				}
				seenNode[c] = true
				stack = append(stack, c)
			} else {
				l := ^c
				if l >= t.NumLeaves || seenLeaf[l] {
					return fmt.Errorf("node %d: child %d is not an unused leaf", n, c)
				}
				seenLeaf[l] = true
			}
		}
	}
	for i, ok := range seenNode {
		if !ok {
			return fmt.Errorf("node %d is unreachable", i)
		}
	}
	for i, ok := range seenLeaf {
		if !ok {
			return fmt.Errorf("leaf %d is unreachable", i)
		}
	}
	return nil
}
