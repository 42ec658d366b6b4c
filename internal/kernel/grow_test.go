package kernel

import "testing"

func TestGrow(t *testing.T) {
	for _, tc := range []struct {
		name           string
		len, cap, n    int
		reuse          bool
		wantLen, atCap int
	}{
		{"nil", 0, 0, 10, false, 10, 12},
		{"fits", 3, 16, 16, true, 16, 16},
		{"shrinks", 8, 8, 2, true, 2, 8},
		{"zero", 0, 0, 0, true, 0, 0},
		{"too small", 10, 10, 11, false, 11, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := make([]int32, tc.len, tc.cap)
			for i := range s {
				s[i] = int32(i + 1)
			}
			g := Grow(s, tc.n)
			if len(g) != tc.wantLen || cap(g) != tc.atCap {
				t.Fatalf("len %d cap %d, want %d and %d", len(g), cap(g), tc.wantLen, tc.atCap)
			}
			if tc.cap > 0 {
				if same := cap(g) > 0 && &s[:1][0] == &g[:1][0]; same != tc.reuse {
					t.Errorf("reused the array: %v, want %v", same, tc.reuse)
				}
			}
			if !tc.reuse {
				for i, v := range g {
					if v != 0 {
						t.Fatalf("new array holds %d at %d", v, i)
					}
				}
			}
		})
	}
}

func TestGrowSteadyState(t *testing.T) {
	var buf []float32
	sizes := []int{100, 90, 110, 120, 105, 125}
	allocs := testing.AllocsPerRun(10, func() {
		for _, n := range sizes {
			buf = Grow(buf, n)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run once grown", allocs)
	}
}

func BenchmarkGrow(b *testing.B) {
	buf := make([]float32, 0, 1024)
	for i := 0; b.Loop(); i++ {
		buf = Grow(buf, 512+i%512)
	}
}
