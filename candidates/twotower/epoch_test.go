package twotower

import (
	"context"
	"slices"
	"testing"
)

// An epoch shorter than a pass takes consecutive, disjoint chunks of one shuffled order and
// reshuffles when too few are left; at or above the sample count it is the whole pass, exactly as
// without the cap.
func TestEpochExamples(t *testing.T) {
	w := newWorld(16, 80, 60, 4, 10, 20)
	n := len(trainSamples(newSeqs(w.events, w.numUsers), w.numItems, nil))
	if n < 900 {
		t.Fatalf("only %d samples: the test world is too small", n)
	}

	t.Run("chunks", func(t *testing.T) {
		p := smallParams()
		feats, err := newItemFeatures(w.attrs, w.numItems)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := newTrainer(w.trainData(w.events), w.events, nil, 0, feats, p, quietOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		size := n / 3 // three chunks a pass, and a tail of n mod 3 left over
		key := func(s sample) [2]int { return [2]int{int(s.user), int(s.idx)} }
		seen := map[[2]int]bool{}
		for e := 0; e < 3; e++ {
			chunk := tr.nextEpoch(size)
			if len(chunk) != size {
				t.Fatalf("epoch %d: %d examples, want %d", e, len(chunk), size)
			}
			for _, s := range chunk {
				if seen[key(s)] {
					t.Fatalf("epoch %d repeats an example of the same pass", e)
				}
				seen[key(s)] = true
			}
		}
		first := slices.Clone(tr.samples[:size])
		if chunk := tr.nextEpoch(size); tr.cursor != size || slices.Equal(first, chunk) {
			t.Errorf("the fourth epoch should start a new shuffled order (cursor %d)", tr.cursor)
		}
	})

	t.Run("whole passes unchanged", func(t *testing.T) {
		a := trainSmall(t, w, nil, 1).ItemEmbeddings()
		b := trainSmall(t, w, func(p *Params) { p.EpochExamples = n + 100 }, 1).ItemEmbeddings()
		if !slices.Equal(a, b) {
			t.Error("an epoch_examples above the sample count changed the model")
		}
	})

	t.Run("stats", func(t *testing.T) {
		p := smallParams()
		p.EpochExamples, p.Epochs = 256, 3
		_, st, err := Train(context.Background(), w.trainData(w.events), p, quietOptions(2))
		if err != nil {
			t.Fatal(err)
		}
		if st.Samples != 256 || st.Epochs != 3 {
			t.Errorf("stats: %d samples an epoch over %d epochs, want 256 over 3", st.Samples, st.Epochs)
		}
	})
}
