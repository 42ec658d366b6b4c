package dataset

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad1M loads a generated 1,000,000-event generic data set (issue 2 asks for < 2 s).
func BenchmarkLoad1M(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "events.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "user_id,item_id,timestamp,value")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1_000_000; i++ {
		fmt.Fprintf(w, "u%d,i%d,%d,%d\n", r.IntN(6000), r.IntN(4000), 1_000_000_000+i*7-r.IntN(100), 1+r.IntN(5))
	}
	w.Flush()
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds, err := Load(dir, LoadOptions{})
		if err != nil || len(ds.Events) != 1_000_000 {
			b.Fatal(err)
		}
	}
}
