package history

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkScan measures the replay reader on clean records (no damage: the common case).
func BenchmarkScan(b *testing.B) {
	var log []byte
	for k := range 100000 {
		log = appendRecord(log, ev(fmt.Sprintf("user-%d", k%5000), k%1000, k))
	}
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		n := 0
		sc := newScanner(bytes.NewReader(log), 0, nil)
		for sc.next() {
			n++
		}
		if n != 100000 {
			b.Fatal(n)
		}
	}
}
