package twotower

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestThroughputForTorchComparison is the Go half of bench/twotower_vs_torch.sh. It runs only
// when TWOTOWER_BENCH_DIR is set: it writes the synthetic log there (unless present) as
// events.csv and items.csv for bench/twotower_torch.py, trains TWOTOWER_BENCH_BATCHES batches
// (default 60, after 5 warm-up batches) of the default architecture on it, and prints one JSON
// line with the examples/s.
func TestThroughputForTorchComparison(t *testing.T) {
	dir := os.Getenv("TWOTOWER_BENCH_DIR")
	if dir == "" {
		t.Skip("set TWOTOWER_BENCH_DIR (see bench/twotower_vs_torch.sh)")
	}
	batches := 60
	if s := os.Getenv("TWOTOWER_BENCH_BATCHES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		batches = n
	}
	// MovieLens-100K-sized: 943 users, 1682 items, ~100K events.
	w := newWorld(100, 943, 1682, 40, 20, 200)
	if _, err := os.Stat(filepath.Join(dir, "events.csv")); err != nil {
		if err := writeWorld(w, dir); err != nil {
			t.Fatal(err)
		}
	}
	p := DefaultParams()
	p.ValidationFraction = 0
	feats, err := newItemFeatures(w.attrs, w.numItems)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(w.trainData(w.events), w.events, nil, 0, feats, p, quietOptions(0))
	if err != nil {
		t.Fatal(err)
	}
	tr.rng.Shuffle(len(tr.samples), func(i, j int) { tr.samples[i], tr.samples[j] = tr.samples[j], tr.samples[i] })
	bs, nb := p.BatchSize, len(tr.samples)/p.BatchSize
	const warmup = 5
	var start time.Time
	var loss float64
	for b := 0; b < warmup+batches; b++ {
		if b == warmup {
			start = time.Now()
		}
		k := b % nb
		loss = tr.trainStep(tr.samples[k*bs : (k+1)*bs])
	}
	el := time.Since(start).Seconds()
	out, _ := json.Marshal(map[string]any{
		"impl": "go", "workers": len(tr.reps), "gomaxprocs": runtime.GOMAXPROCS(0), "batch_size": bs,
		"batches": batches, "examples": batches * bs, "seconds": math.Round(el*1000) / 1000,
		"examples_per_s": math.Round(float64(batches*bs)/el*10) / 10, "last_loss": math.Round(loss*1e4) / 1e4,
		"samples": len(tr.samples), "events": len(w.events),
	})
	fmt.Println(string(out))
}

// writeWorld writes w in the generic CSV layout with dense integer IDs.
func writeWorld(w *world, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fill func(*bufio.Writer)) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		fill(bw)
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("events.csv", func(bw *bufio.Writer) {
		bw.WriteString("user_id,item_id,timestamp,value\n")
		for _, e := range w.events {
			fmt.Fprintf(bw, "%d,%d,%d,\n", e.User, e.Item, e.Time)
		}
	}); err != nil {
		return err
	}
	return write("items.csv", func(bw *bufio.Writer) {
		bw.WriteString("item_id,genres,year\n")
		g, y := w.attrs.Categorical[0].Values, w.attrs.Numeric[0].Values
		for i := 0; i < w.numItems; i++ {
			fmt.Fprintf(bw, "%d,", i)
			for k, v := range g[i] {
				if k > 0 {
					bw.WriteByte('|')
				}
				fmt.Fprintf(bw, "%d", v)
			}
			bw.WriteByte(',')
			if !math.IsNaN(float64(y[i])) {
				fmt.Fprintf(bw, "%g", y[i])
			}
			bw.WriteByte('\n')
		}
	})
}
