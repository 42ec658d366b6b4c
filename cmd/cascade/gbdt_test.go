package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// writeRankFile writes a TSV ranking file (label first) and its .query file: 4 features,
// labels 0-3 driven by the first two.
func writeRankFile(t *testing.T, path string, seed uint64, queries, docs int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	var b, q strings.Builder
	for i := 0; i < queries; i++ {
		for j := 0; j < docs; j++ {
			x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
			y := math.Floor(min(max(x[0]+0.5*math.Abs(x[1])+0.3*rng.NormFloat64()+1, 0), 3))
			fmt.Fprintf(&b, "%g\t%.5f\t%.5f\t%.5f\t%.5f\n", y, x[0], x[1], x[2], x[3])
		}
		fmt.Fprintf(&q, "%d\n", docs)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".query", []byte(q.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"--no-progress"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGbdtTrainPredictEval(t *testing.T) {
	dir := t.TempDir()
	train, valid, test := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "valid.tsv"), filepath.Join(dir, "test.tsv")
	writeRankFile(t, train, 1, 60, 20)
	writeRankFile(t, valid, 2, 20, 20)
	writeRankFile(t, test, 3, 20, 20)
	model := filepath.Join(dir, "model.txt")
	_, stderr, code := runCLI(t, "gbdt", "train", "--data", train, "--valid", valid, "--objective", "lambdarank",
		"--trees", "40", "--leaves", "7", "--learning-rate", "0.1", "--min-data-in-leaf", "10", "--min-sum-hessian", "0.001",
		"--lambda-l2", "1", "--bagging-fraction", "0.8", "--bagging-freq", "1", "--feature-fraction", "1", "--max-bin", "63",
		"--seed", "5", "--early-stopping", "10", "--eval-at", "3,5", "--feature-names", "a,b,c,d", "--out", model)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	m, err := gbdt.LoadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckFeatures([]string{"a", "b", "c", "d"}); err != nil {
		t.Fatal(err)
	}

	pred := filepath.Join(dir, "pred.txt")
	if _, stderr, code := runCLI(t, "gbdt", "predict", "--model", model, "--data", test, "--out", pred); code != 0 {
		t.Fatalf("predict exit %d: %s", code, stderr)
	}
	raw, _ := os.ReadFile(pred)
	lines := strings.Fields(string(raw))
	d, err := gbdt.ReadDataset(test, gbdt.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != d.NumRows {
		t.Fatalf("%d predictions for %d rows", len(lines), d.NumRows)
	}
	want := make([]float64, d.NumRows)
	m.Score(d.X, want)
	for i, l := range lines {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil || v != want[i] {
			t.Fatalf("line %d: %q, want %v (full precision)", i+1, l, want[i])
		}
	}

	out, stderr, code := runCLI(t, "gbdt", "eval", "--model", model, "--data", test, "--at", "1,3,10")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("eval output %q: %v", out, err)
	}
	ndcg, _ := gbdt.NDCG(d.Labels, want, d.Groups, []int{1, 3, 10}, nil)
	for i, k := range []string{"ndcg@1", "ndcg@3", "ndcg@10"} {
		if got[k] != ndcg[i] {
			t.Errorf("%s = %v, want %v", k, got[k], ndcg[i])
		}
	}
	if !strings.HasPrefix(out, `{"ndcg@1": `) || strings.Index(out, "ndcg@3") > strings.Index(out, "ndcg@10") {
		t.Errorf("keys out of --at order: %s", out)
	}
	if got["ndcg@10"] < 0.7 {
		t.Errorf("ndcg@10 %.3f: the model did not learn", got["ndcg@10"])
	}
	// eval takes exactly one of --model and --scores, and its usage says so.
	if _, stderr, code := runCLI(t, "gbdt", "eval", "--data", test); code == 0 || !strings.Contains(stderr, "exactly one of --model") {
		t.Errorf("eval without --model or --scores: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "gbdt", "eval", "--model", model, "--scores", model, "--data", test); code == 0 || !strings.Contains(stderr, "--model and --scores can't be used together") && !strings.Contains(stderr, "can't be used together") {
		t.Errorf("eval with both: exit %d: %s", code, stderr)
	}
	if out, _, _ := runCLI(t, "gbdt", "eval", "--help"); strings.Contains(out, "--model=MODEL --scores=FILE") {
		t.Errorf("usage marks both --model and --scores required: %s", out)
	}
}

func TestGbdtBinaryAndLibSVM(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 600; i++ {
		x0, x1 := rng.NormFloat64(), rng.NormFloat64()
		y := 0
		if x0+0.5*x1+0.3*rng.NormFloat64() > 0 {
			y = 1
		}
		fmt.Fprintf(&b, "%d 0:%.4f 2:%.4f\n", y, x0, x1) // feature 1 absent: zeros
	}
	data := filepath.Join(dir, "bin.svm")
	os.WriteFile(data, []byte(b.String()), 0o644)
	model := filepath.Join(dir, "m.txt")
	if _, stderr, code := runCLI(t, "gbdt", "train", "--data", data, "--objective", "binary", "--trees", "20", "--out", model); code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "gbdt", "predict", "--model", model, "--data", data, "--out", "-", "--transform")
	if code != 0 {
		t.Fatalf("predict exit %d: %s", code, stderr)
	}
	for _, l := range strings.Fields(out) {
		if p, err := strconv.ParseFloat(l, 64); err != nil || p <= 0 || p >= 1 {
			t.Fatalf("probability %q", l)
		}
	}
}

// A hand-written LightGBM v4 model scores a libsvm file to hand-computed values.
func TestGbdtPredictV4Fixture(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.svm")
	os.WriteFile(data, []byte("0 0:0.5 2:1\n1 0:0.6 1:1.5 2:2\n0 0:1 1:1.6 2:3.9\n"), 0o644)
	out, stderr, code := runCLI(t, "gbdt", "predict", "--model", "../../ranker/gbdt/testdata/v4_two_trees.txt", "--data", data, "--out", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []float64{0.05, 0.27, 0.25}
	for i, l := range strings.Fields(out) {
		v, _ := strconv.ParseFloat(l, 64)
		if math.Abs(v-want[i]) > 1e-12 {
			t.Errorf("row %d: %v, want %v", i, v, want[i])
		}
	}
}

func TestGbdtErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "bad.tsv")
	os.WriteFile(data, []byte("1\t0.5\t2\n0\t0.1\toops\n"), 0o644)
	os.WriteFile(data+".query", []byte("2\n"), 0o644)
	_, stderr, code := runCLI(t, "gbdt", "train", "--data", data, "--out", filepath.Join(dir, "m.txt"))
	if code == 0 || !strings.Contains(stderr, "bad.tsv:2: column 3") {
		t.Fatalf("exit %d, stderr %q: want an error naming bad.tsv:2", code, stderr)
	}
	noq := filepath.Join(dir, "noquery.tsv")
	os.WriteFile(noq, []byte("1\t0.5\n0\t0.1\n"), 0o644)
	_, stderr, code = runCLI(t, "gbdt", "train", "--data", noq, "--out", filepath.Join(dir, "m.txt"))
	if code == 0 || !strings.Contains(stderr, "noquery.tsv.query") {
		t.Fatalf("exit %d, stderr %q: want a missing .query error", code, stderr)
	}
	_, stderr, code = runCLI(t, "gbdt", "predict", "--model", "../../ranker/gbdt/testdata/linear_tree.txt", "--data", noq, "--out", "-")
	if code == 0 || !strings.Contains(stderr, "linear trees") {
		t.Fatalf("exit %d, stderr %q: want the linear-tree refusal", code, stderr)
	}
}
