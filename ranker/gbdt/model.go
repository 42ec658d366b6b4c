package gbdt

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dmitryikh/leaves"

	"github.com/cascade-rec/cascade/ranker/internal/schemadiff"
)

// Model is a LightGBM-compatible tree ensemble with one output (ranking, binary or
// regression). Create one with Train or Load. The exported fields describe the model and are
// read-only: Score uses a compiled copy of the trees made when the model was built.
type Model struct {
	Trees        []*Tree
	NumFeatures  int      // max_feature_idx + 1
	FeatureNames []string // len NumFeatures
	FeatureInfos []string // LightGBM's feature_infos: "[min:max]", "none" or a category list
	Objective    string   // as in the header: "lambdarank", "binary sigmoid:1", ...
	// AverageOutput marks a random-forest model (output = mean of the trees).
	AverageOutput bool
	// Params is written as the parameters block ([name: value] lines); nil for loaded models.
	Params [][2]string

	scorer
	ens *leaves.Ensemble // set by Load
}

// Save writes the model to path in LightGBM's text format (WriteTo) and returns the hex SHA-256
// of the file, for manifests.
func (m *Model) Save(path string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("gbdt: %w", err)
	}
	h := sha256.New()
	if _, err := m.WriteTo(io.MultiWriter(f, h)); err != nil {
		f.Close()
		return "", fmt.Errorf("gbdt: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("gbdt: write %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteTo writes the model in LightGBM's text format (header version=v3, which leaves and
// LightGBM 4.x both read).
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	blocks := make([][]byte, len(m.Trees))
	sizes := make([]string, len(m.Trees))
	for i, t := range m.Trees {
		var b bytes.Buffer
		fmt.Fprintf(&b, "Tree=%d\n", i)
		t.writeBody(&b)
		b.WriteByte('\n')
		blocks[i] = b.Bytes()
		sizes[i] = strconv.Itoa(b.Len())
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	fmt.Fprintf(bw, "tree\nversion=v3\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=%d\n", m.NumFeatures-1)
	if m.Objective != "" {
		fmt.Fprintf(bw, "objective=%s\n", m.Objective)
	}
	if m.AverageOutput {
		bw.WriteString("average_output\n")
	}
	fmt.Fprintf(bw, "feature_names=%s\n", strings.Join(m.FeatureNames, " "))
	fmt.Fprintf(bw, "feature_infos=%s\n", strings.Join(m.FeatureInfos, " "))
	fmt.Fprintf(bw, "tree_sizes=%s\n\n", strings.Join(sizes, " "))
	for _, b := range blocks {
		bw.Write(b)
	}
	bw.WriteString("end of trees\n\nfeature_importances:\n")
	for _, fi := range m.FeatureImportance() {
		fmt.Fprintf(bw, "%s=%d\n", m.FeatureNames[fi.Feature], fi.Splits)
	}
	if len(m.Params) > 0 {
		bw.WriteString("\nparameters:\n")
		for _, kv := range m.Params {
			fmt.Fprintf(bw, "[%s: %s]\n", kv[0], kv[1])
		}
		bw.WriteString("\nend of parameters\n")
	}
	err := bw.Flush()
	return cw.n, err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeBody writes the keys of one tree in LightGBM's order, ending with an empty line.
func (t *Tree) writeBody(b *bytes.Buffer) {
	ints := func(key string, v []int) {
		b.WriteString(key)
		b.WriteByte('=')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(x))
		}
		b.WriteByte('\n')
	}
	floats := func(key string, v []float64, prec int) {
		b.WriteString(key)
		b.WriteByte('=')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(x, 'g', prec, 64))
		}
		b.WriteByte('\n')
	}
	dt := make([]int, len(t.DecisionType))
	for i, d := range t.DecisionType {
		dt[i] = int(d)
	}
	fmt.Fprintf(b, "num_leaves=%d\nnum_cat=%d\n", t.NumLeaves, t.NumCat)
	ints("split_feature", t.SplitFeature)
	if len(t.SplitGain) == len(t.SplitFeature) {
		floats("split_gain", t.SplitGain, 6)
	}
	floats("threshold", t.Threshold, 17)
	ints("decision_type", dt)
	ints("left_child", t.LeftChild)
	ints("right_child", t.RightChild)
	floats("leaf_value", t.LeafValue, 17)
	// The statistics are optional in files read by Load; write them only when complete.
	if len(t.LeafWeight) == t.NumLeaves {
		floats("leaf_weight", t.LeafWeight, 17)
	}
	if len(t.LeafCount) == t.NumLeaves {
		ints("leaf_count", t.LeafCount)
	}
	if len(t.InternalValue) == len(t.SplitFeature) {
		floats("internal_value", t.InternalValue, 6)
	}
	if len(t.InternalWeight) == len(t.SplitFeature) {
		floats("internal_weight", t.InternalWeight, 6)
	}
	if len(t.InternalCount) == len(t.SplitFeature) {
		ints("internal_count", t.InternalCount)
	}
	if t.NumCat > 0 {
		ints("cat_boundaries", t.CatBoundaries)
		cw := make([]int, len(t.CatThreshold))
		for i, w := range t.CatThreshold {
			cw[i] = int(w)
		}
		ints("cat_threshold", cw)
	}
	fmt.Fprintf(b, "is_linear=0\nshrinkage=%s\n\n", strconv.FormatFloat(t.Shrinkage, 'g', -1, 64))
}

// Importance is a feature's number of splits across the model.
type Importance struct {
	Feature int
	Splits  int
}

// FeatureImportance returns split counts of the features used, most used first (LightGBM's
// split importance; ties by feature index).
func (m *Model) FeatureImportance() []Importance {
	cnt := make([]int, m.NumFeatures)
	for _, t := range m.Trees {
		for _, f := range t.SplitFeature {
			if f >= 0 && f < len(cnt) {
				cnt[f]++
			}
		}
	}
	var imp []Importance
	for f, c := range cnt {
		if c > 0 {
			imp = append(imp, Importance{f, c})
		}
	}
	slices.SortStableFunc(imp, func(a, b Importance) int { return cmp.Compare(b.Splits, a.Splits) })
	return imp
}

// CheckFeatures compares the model's feature names with a pipeline's feature schema (in
// column order) and names the features that are missing, extra or out of place.
func (m *Model) CheckFeatures(schema []string) error {
	if slices.Equal(m.FeatureNames, schema) {
		return nil
	}
	d := schemadiff.Compare(m.FeatureNames, schema)
	missing, extra := d.Missing, d.Extra
	var moved []string
	for _, mv := range d.Moved {
		moved = append(moved, fmt.Sprintf("%s (model column %d, schema column %d)", mv.Name, mv.Model, mv.Given))
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing from the schema: "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "not in the model: "+strings.Join(extra, ", "))
	}
	if len(moved) > 0 {
		parts = append(parts, "in a different column: "+strings.Join(moved, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("model has %d features, schema %d", len(m.FeatureNames), len(schema)))
	}
	return &FeatureMismatchError{Missing: missing, Extra: extra, Moved: moved, msg: strings.Join(parts, "; ")}
}

// FeatureMismatchError lists the differences between a model's features and a schema.
type FeatureMismatchError struct {
	Missing []string // used by the model, absent from the schema
	Extra   []string // in the schema, unknown to the model
	Moved   []string // present in both at different columns
	msg     string
}

func (e *FeatureMismatchError) Error() string { return "gbdt: feature mismatch: " + e.msg }

// Transform applies the objective's output transform to raw scores in place: the sigmoid for
// binary, exp for poisson/gamma/tweedie, nothing for ranking and regression.
func (m *Model) Transform(scores []float64) {
	obj := strings.Fields(m.Objective)
	if len(obj) == 0 {
		return
	}
	switch obj[0] {
	case "binary", "cross_entropy", "xentropy":
		s := 1.0
		for _, kv := range obj[1:] {
			if v, ok := strings.CutPrefix(kv, "sigmoid:"); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					s = f
				}
			}
		}
		for i, x := range scores {
			scores[i] = 1 / (1 + math.Exp(-s*x))
		}
	case "poisson", "gamma", "tweedie":
		for i, x := range scores {
			scores[i] = math.Exp(x)
		}
	}
}
