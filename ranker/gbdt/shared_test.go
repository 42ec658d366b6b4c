package gbdt

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir locates ../shared/datasets relative to the repository; tests and benchmarks that
// need it skip when it is absent (CI copies shared/ beside the clone, other checkouts may not).
func sharedDataset(tb testing.TB, name string) string {
	tb.Helper()
	for _, base := range []string{"../../../shared/datasets", "../../shared/datasets"} {
		p := filepath.Join(base, name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	tb.Skipf("shared dataset %s not found beside the repository (../shared/datasets/%s); skipping", name, name)
	return ""
}

// BenchmarkTrainLTRSynth trains the ltr-synth reference configuration (LightGBM 4.6's
// parameters from the dataset's README) for b.N×30 trees.
func BenchmarkTrainLTRSynth(b *testing.B) {
	dir := sharedDataset(b, "ltr-synth")
	train, err := ReadDataset(filepath.Join(dir, "train.tsv"), ReadOptions{RequireGroups: true})
	if err != nil {
		b.Fatal(err)
	}
	p := synthParams()
	p.NumTrees = 30
	b.ResetTimer()
	c0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := Train(context.Background(), train, nil, p); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

func synthParams() Params {
	p := DefaultParams(ObjectiveLambdarank)
	p.NumTrees = 300
	p.NumLeaves = 31
	p.LearningRate = 0.1
	p.MinDataInLeaf = 50
	p.MinSumHessianInLeaf = 5
	p.MaxBin = 255
	p.BaggingFraction = 0.9
	p.BaggingFreq = 1
	p.FeatureFraction = 1
	p.Seed = 7
	return p
}

// BenchmarkTrainLTRSynthFull is bench/gbdt_vs_xgboost.sh's training in-process: 300 trees on
// 2 threads, data already read; it reports CPU seconds per model, the figure to compare on a
// loaded machine.
func BenchmarkTrainLTRSynthFull(b *testing.B) {
	dir := sharedDataset(b, "ltr-synth")
	train, err := ReadDataset(filepath.Join(dir, "train.tsv"), ReadOptions{RequireGroups: true})
	if err != nil {
		b.Fatal(err)
	}
	p := synthParams()
	p.NumThreads = 2
	b.ResetTimer()
	c0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := Train(context.Background(), train, nil, p); err != nil {
			b.Fatal(err)
		}
	}
	if c := processCPU(); c > 0 {
		b.ReportMetric(float64(c-c0)/float64(b.N)/1e9, "cpu-s/op")
	}
}
