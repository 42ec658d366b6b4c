// Command annbench measures the ann package's HNSW index against exact
// search on synthetic embeddings and prints a Markdown report: build time
// and memory, then recall@k and single-thread queries/s for several efSearch
// values, next to exact search on the same queries.
//
// The runs recorded in docs/benchmarks.md are:
//
//	go run ./candidates/ann/cmd/annbench -data clustered -n 1000000
//	go run ./candidates/ann/cmd/annbench -data uniform -n 100000 -workers 1 -ef 100,200,500,800
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cascade-rec/cascade/candidates/ann"
	"github.com/cascade-rec/cascade/candidates/ann/internal/vecgen"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/internal/usage"
)

func main() {
	var (
		data     = flag.String("data", "clustered", "clustered or uniform unit vectors")
		n        = flag.Int("n", 1_000_000, "stored vectors")
		dim      = flag.Int("dim", 64, "dimension")
		centres  = flag.Int("centres", 1000, "clusters (clustered data)")
		sigma    = flag.Float64("sigma", 0.35, "per-dimension noise around a centre (clustered data)")
		nq       = flag.Int("nq", 1000, "queries, drawn like the data")
		k        = flag.Int("k", 100, "neighbours per query")
		m        = flag.Int("m", ann.DefaultM, "HNSW M")
		efc      = flag.Int("efc", ann.DefaultEfConstruction, "HNSW efConstruction")
		efs      = flag.String("ef", "100,120,160,200,300,500", "comma-separated efSearch values; empty: time exact search only")
		workers  = flag.Int("workers", 0, "build goroutines (0 = GOMAXPROCS)")
		exactQ   = flag.Int("exactq", 200, "queries timed for exact search (single thread)")
		seed     = flag.Uint64("seed", 1, "data and level seed")
		dropPrun = flag.Bool("drop-pruned", false, "disable keepPrunedConnections")
		saveLoad = flag.Bool("saveload", true, "time WriteTo/ReadHNSW through memory")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the HNSW build to this file")
		cache    = flag.String("cache", "", "load the HNSW index from this file if it exists, else build and save it there (for query experiments)")
	)
	flag.Parse()
	efList, err := parseInts(*efs)
	if err != nil {
		log.Fatalf("annbench: -ef: %v", err)
	}

	fmt.Printf("## annbench: %s, n=%d, d=%d\n\n", *data, *n, *dim)
	fmt.Printf("- command: `go run ./candidates/ann/cmd/annbench %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("- machine: %s, nproc=%d, GOMAXPROCS=%d, %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	start := time.Now()
	var vecs, qs []float32
	switch *data {
	case "clustered":
		c := vecgen.NewClusters(*centres, *dim, *sigma, *seed)
		vecs = c.Sample(*n, *seed+1)
		qs = c.Sample(*nq, *seed+2)
		fmt.Printf("- data: %d centres ~ N(0, I), vector = centre + N(0, %.2f²·I), normalised; queries drawn the same way\n", *centres, *sigma)
	case "uniform":
		vecs = vecgen.Uniform(*n, *dim, *seed+1)
		qs = vecgen.Uniform(*nq, *dim, *seed+2)
		fmt.Printf("- data: uniform on the unit sphere; queries drawn the same way\n")
	default:
		log.Fatalf("annbench: unknown -data %q", *data)
	}
	fmt.Printf("- generated in %.1f s; %d queries, k=%d\n", time.Since(start).Seconds(), *nq, *k)

	exact, err := ann.NewExact(vecs, *dim, ann.ExactOptions{})
	if err != nil {
		log.Fatal(err)
	}
	start, cpu0 := time.Now(), usage.Now().CPU
	truth, err := exact.SearchBatch(qs, *k, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("- ground truth (exact SearchBatch, all cores): %.1f s wall, %.1f CPU-s (%.2f ms CPU per query)\n",
		time.Since(start).Seconds(), (usage.Now().CPU - cpu0).Seconds(), (usage.Now().CPU-cpu0).Seconds()*1e3/float64(*nq))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if len(efList) == 0 {
		searchTable(nil, vecs, qs, truth, *dim, *k, *exactQ, nil)
		return
	}
	if *cache != "" {
		if f, err := os.Open(*cache); err == nil {
			start := time.Now()
			h, err := ann.ReadHNSW(bufio.NewReader(f))
			f.Close()
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("- HNSW loaded from %s in %.1f s: %+v\n\n", *cache, time.Since(start).Seconds(), h.Stats())
			searchTable(h, vecs, qs, truth, *dim, *k, *exactQ, efList)
			return
		}
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	start, cpu0 = time.Now(), usage.Now().CPU
	h, err := ann.NewHNSW(vecs, *dim, ann.HNSWOptions{
		M: *m, EfConstruction: *efc, Seed: *seed, Workers: *workers, DropPrunedConnections: *dropPrun,
	})
	if err != nil {
		log.Fatal(err)
	}
	build, buildCPU := time.Since(start), usage.Now().CPU-cpu0
	pprof.StopCPUProfile()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	st := h.Stats()
	bw := kernel.Workers(*workers)
	fmt.Printf("- HNSW build: M=%d, efConstruction=%d, %d goroutines: **%.1f s** wall (%.0f inserts/s), %.1f CPU-s; max level %d, mean layer-0 degree %.1f\n",
		*m, *efc, bw, build.Seconds(), float64(*n)/build.Seconds(), buildCPU.Seconds(), st.MaxLevel, st.MeanDegree0)
	fmt.Printf("- memory: index %.0f MiB (vectors %.0f MiB + graph %.0f MiB); heap growth over the build %.0f MiB; peak RSS %s\n",
		mib(st.Bytes), mib(int64(4*len(vecs))), mib(st.Bytes-int64(4*len(vecs))),
		mib(int64(after.HeapAlloc)-int64(before.HeapAlloc)), peakRSS())
	if *cache != "" {
		f, err := os.Create(*cache)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := h.WriteTo(f); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}

	if *saveLoad {
		var buf bytes.Buffer
		start = time.Now()
		if _, err := h.WriteTo(&buf); err != nil {
			log.Fatal(err)
		}
		wt := time.Since(start)
		size := buf.Len()
		start = time.Now()
		if _, err := ann.ReadHNSW(&buf); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("- save %.0f MiB in %.2f s, load (with checksum and validation) in %.2f s\n", mib(int64(size)), wt.Seconds(), time.Since(start).Seconds())
	}
	fmt.Println()

	searchTable(h, vecs, qs, truth, *dim, *k, *exactQ, efList)
}

// searchTable prints recall and single-thread speed of exact search and of
// h at each ef.
func searchTable(h *ann.HNSW, vecs, qs []float32, truth [][]ann.Result, dim, k, exactQ int, efList []int) {
	single, err := ann.NewExact(vecs, dim, ann.ExactOptions{Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	nq := len(qs) / dim
	// Queries run on one locked OS thread so that its CPU time can be read:
	// on a shared machine CPU time is the stable figure (and what a query
	// costs on an idle core); wall time includes time spent descheduled.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]ann.Result, 0, k)
	ex := measure(min(exactQ, nq), func(i int) { buf, _ = single.Search(qs[i*dim:(i+1)*dim], k, buf) })
	fmt.Printf("| index | efSearch | recall@%d | queries/s (CPU) | p50 ms (CPU) | p99 ms (CPU) | queries/s (wall) | p99 ms (wall) | speed-up vs exact (CPU) |\n", k)
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	row := func(name, ef string, recall float64, t timing) {
		fmt.Printf("| %s | %s | %.3f | %.0f | %.3f | %.3f | %.0f | %.3f | %.1fx |\n",
			name, ef, recall, t.cpuQPS, t.p50, t.p99, t.wallQPS, t.wallP99, t.cpuQPS/ex.cpuQPS)
	}
	row("exact", "–", 1, ex)
	for _, ef := range efList {
		var rsum float64
		r := measure(nq, func(i int) {
			buf, _ = h.SearchEf(qs[i*dim:(i+1)*dim], k, ef, nil, buf)
			rsum += ann.Recall(buf, truth[i])
		})
		row("hnsw", strconv.Itoa(ef), rsum/float64(nq), r)
	}
}

type timing struct {
	cpuQPS, wallQPS float64
	p50, p99        float64 // ms of thread CPU time per query
	wallP99         float64 // ms of wall time per query
}

// measure runs fn(0..n-1) on the calling (locked) thread, timing each call
// by thread CPU time (its latency on an idle core) and by wall time.
func measure(n int, fn func(i int)) timing {
	cpu := make([]time.Duration, n)
	wall := make([]time.Duration, n)
	for i := range n {
		c, t := threadCPU(), time.Now()
		fn(i)
		wall[i], cpu[i] = time.Since(t), threadCPU()-c
	}
	var cpuSum, wallSum time.Duration
	for i := range n {
		cpuSum += cpu[i]
		wallSum += wall[i]
	}
	slices.Sort(cpu)
	slices.Sort(wall)
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	return timing{
		cpuQPS:  float64(n) / cpuSum.Seconds(),
		wallQPS: float64(n) / wallSum.Seconds(),
		p50:     ms(cpu[n/2]),
		p99:     ms(cpu[min(n-1, n*99/100)]),
		wallP99: ms(wall[min(n-1, n*99/100)]),
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
