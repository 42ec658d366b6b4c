package pipeline

import (
	"fmt"
	"testing"
)

func TestPickSteps(t *testing.T) {
	// User 1 has 10 steps, user 2 has 3, user 3 has 1, interleaved in time.
	var steps []rankStep
	pos := map[int32]int{}
	for _, u := range []int32{1, 2, 1, 1, 3, 1, 2, 1, 1, 1, 2, 1, 1, 1} {
		steps = append(steps, rankStep{u, pos[u]})
		pos[u]++
	}
	cases := []struct {
		perUser, max int
		want         map[int32]int // steps kept per user
		total        int
	}{
		{0, 0, map[int32]int{1: 10, 2: 3, 3: 1}, 14},
		{4, 0, map[int32]int{1: 4, 2: 3, 3: 1}, 8},
		{1, 0, map[int32]int{1: 1, 2: 1, 3: 1}, 3},
		{0, 7, nil, 7},
		{4, 4, nil, 4},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("perUser=%d,max=%d", c.perUser, c.max), func(t *testing.T) {
			got := pickSteps(steps, c.perUser, c.max)
			if len(got) != c.total {
				t.Fatalf("%d steps kept, want %d", len(got), c.total)
			}
			per := map[int32][]int{}
			for i, st := range got {
				per[st.user] = append(per[st.user], st.pos)
				if i > 0 && indexOf(steps, st) <= indexOf(steps, got[i-1]) {
					t.Fatalf("time order lost: %v", got)
				}
			}
			for u, n := range c.want {
				if len(per[u]) != n {
					t.Errorf("user %d: %d steps kept, want %d (%v)", u, len(per[u]), n, per[u])
				}
			}
			// A capped user's picks spread over the user's steps rather than bunching at one end.
			if c.perUser == 4 && c.max == 0 {
				p := per[1]
				if p[0] > 2 || p[len(p)-1] < 7 {
					t.Errorf("user 1 picks %v are not spread over 0..9", p)
				}
			}
		})
	}
}

func indexOf(steps []rankStep, st rankStep) int {
	for i, s := range steps {
		if s == st {
			return i
		}
	}
	return -1
}
