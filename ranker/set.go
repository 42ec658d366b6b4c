package ranker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cascade-rec/cascade/ranker/internal/schemadiff"
)

// Set is a ranking data set: a list of requests, each a candidate list to be ordered, and the
// schema of the dense features every candidate carries.
type Set struct {
	// FeatureNames names the columns of every Request.Dense row, in order.
	FeatureNames []string
	// Requests in time order (Build emits them so; SplitTime relies on it).
	Requests []Request
	// Stats describes how Build (or BuildImpressions) got here.
	Stats BuildStats
	// Impressions describes BuildImpressions' join (zero for Build).
	Impressions ImpressionStats
}

// Request is one ranking request: who asked, when, what they had done before, and the candidates
// with their features and labels.
type Request struct {
	User int32 // dense user ID, -1 when unknown
	Time int64 // Unix seconds
	// History holds the user's dense item IDs before the request, oldest first. It must not be
	// modified.
	History []int32
	// Items are the candidates, in the order the candidate stage ranked them.
	Items []int32
	// Labels[i] is the relevance of Items[i] (0 or 1 from Build).
	Labels []float32
	// Dense holds len(Items) rows of len(Set.FeatureNames) features, row-major.
	Dense []float32
	// Target is the item the user took at this event, or -1 when there is none.
	Target int32
	// Proposed is the number of leading Items that the candidate stage proposed (or, for a set
	// built from impressions, that were shown); the rest are uniformly random negatives
	// (BuildOptions.RandomNegatives, ImpressionOptions.RandomNegatives).
	Proposed int
	// Weights[i] weighs candidate i in training (nil: every candidate 1); BuildImpressions sets
	// inverse logging propensities when asked.
	Weights []float32
}

// BuildStats counts what Build saw and kept.
type BuildStats struct {
	Events       int // events in the window
	NoHistory    int // left out: no catalog item in the history
	NoCandidates int // left out: nothing was proposed
	Requests     int // requests in the set
	WithTarget   int // requests whose target is among the proposed candidates
	WithPositive int // requests with at least one positive label
}

// ImpressionStats counts what BuildImpressions joined (BuildStats.Events then counts the
// impressions).
type ImpressionStats struct {
	Shown        int // shown items kept as rows
	UnknownItems int // shown items the catalog does not know, left out
	Duplicates   int // repeated items within one slate, left out (the first position kept)
	Clicked      int // shown items with a logged click
	Consumed     int // shown items taken within the window (clicked or not)
}

// Len is the number of candidates.
func (r *Request) Len() int { return len(r.Items) }

// Row returns the dense features of candidate i, given the number of features.
func (r *Request) Row(i, numFeatures int) []float32 {
	return r.Dense[i*numFeatures : (i+1)*numFeatures]
}

// HasPositive reports whether some candidate has a positive label.
func (r *Request) HasPositive() bool {
	for _, y := range r.Labels {
		if y > 0 {
			return true
		}
	}
	return false
}

// NumFeatures is the width of a dense row.
func (s *Set) NumFeatures() int { return len(s.FeatureNames) }

// Rows is the total number of candidates over all requests.
func (s *Set) Rows() int {
	n := 0
	for i := range s.Requests {
		n += len(s.Requests[i].Items)
	}
	return n
}

// Validate checks that every request's slices agree with each other and with the schema.
func (s *Set) Validate() error {
	nf := len(s.FeatureNames)
	seen := make(map[string]bool, nf)
	for _, name := range s.FeatureNames {
		if name == "" || seen[name] {
			return fmt.Errorf("ranker: feature name %q is empty or repeated", name)
		}
		seen[name] = true
	}
	for k := range s.Requests {
		r := &s.Requests[k]
		n := len(r.Items)
		switch {
		case len(r.Labels) != n:
			return fmt.Errorf("ranker: request %d: %d labels for %d candidates", k, len(r.Labels), n)
		case len(r.Dense) != n*nf:
			return fmt.Errorf("ranker: request %d: %d dense values for %d candidates × %d features", k, len(r.Dense), n, nf)
		case r.Proposed < 0 || r.Proposed > n:
			return fmt.Errorf("ranker: request %d: %d proposed of %d candidates", k, r.Proposed, n)
		case r.Weights != nil && len(r.Weights) != n:
			return fmt.Errorf("ranker: request %d: %d weights for %d candidates", k, len(r.Weights), n)
		}
		if k > 0 && r.Time < s.Requests[k-1].Time {
			return fmt.Errorf("ranker: request %d is earlier than request %d", k, k-1)
		}
	}
	return nil
}

// Filter returns a set sharing s's requests for which keep returns true.
func (s *Set) Filter(keep func(*Request) bool) *Set {
	out := &Set{FeatureNames: s.FeatureNames, Stats: s.Stats}
	for k := range s.Requests {
		if keep(&s.Requests[k]) {
			out.Requests = append(out.Requests, s.Requests[k])
		}
	}
	out.recount()
	return out
}

// WithPositives returns the requests with at least one positive label: the usual training set.
func (s *Set) WithPositives() *Set { return s.Filter((*Request).HasPositive) }

// SplitTime splits the requests by time with replay-v1's rule: the cut is the time of request
// ⌊frac·N⌋, and the first set holds the requests before it. Requests must be in time order.
func (s *Set) SplitTime(frac float64) (before, after *Set) {
	n := len(s.Requests)
	before = &Set{FeatureNames: s.FeatureNames, Stats: s.Stats}
	after = &Set{FeatureNames: s.FeatureNames, Stats: s.Stats}
	if n == 0 {
		return before, after
	}
	idx := min(int(frac*float64(n)), n-1)
	cut := s.Requests[idx].Time
	k := sort.Search(n, func(i int) bool { return s.Requests[i].Time >= cut })
	before.Requests = s.Requests[:k:k]
	after.Requests = s.Requests[k:]
	before.recount()
	after.recount()
	return before, after
}

// recount refreshes the per-request counts of Stats after a subset was taken.
func (s *Set) recount() {
	s.Stats.Requests = len(s.Requests)
	s.Stats.WithTarget, s.Stats.WithPositive = 0, 0
	for k := range s.Requests {
		r := &s.Requests[k]
		if r.HasPositive() {
			s.Stats.WithPositive++
		}
		if r.Target >= 0 {
			for _, it := range r.Items[:r.Proposed] {
				if it == r.Target {
					s.Stats.WithTarget++
					break
				}
			}
		}
	}
}

// Project returns a copy of s whose dense rows hold exactly the features names, in that order
// (for a model trained on a different schema). It fails naming the features s lacks.
func (s *Set) Project(names []string) (*Set, error) {
	col := make(map[string]int, len(s.FeatureNames))
	for j, name := range s.FeatureNames {
		col[name] = j
	}
	src := make([]int, len(names))
	var missing []string
	for j, name := range names {
		c, ok := col[name]
		if !ok {
			missing = append(missing, name)
		}
		src[j] = c
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ranker: the set lacks features %s", strings.Join(missing, ", "))
	}
	nf, mf := len(s.FeatureNames), len(names)
	out := &Set{FeatureNames: append([]string(nil), names...), Stats: s.Stats, Requests: make([]Request, len(s.Requests))}
	for k := range s.Requests {
		r := s.Requests[k]
		dense := make([]float32, len(r.Items)*mf)
		for i := range r.Items {
			for j, c := range src {
				dense[i*mf+j] = r.Dense[i*nf+c]
			}
		}
		r.Dense = dense
		out.Requests[k] = r
	}
	return out, nil
}

// CheckFeatures compares the schema a caller supplies (got) with the one a model expects (want)
// and describes every difference: missing and extra names, then the first misplaced one.
func CheckFeatures(want, got []string) error {
	d := schemadiff.Compare(want, got)
	missing, extra := d.Missing, d.Extra
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "extra "+strings.Join(extra, ", "))
	}
	if len(parts) == 0 {
		if len(want) != len(got) {
			return fmt.Errorf("features: %d names given, %d expected (repeated names?)", len(got), len(want))
		}
		for j := range want {
			if want[j] != got[j] {
				return fmt.Errorf("features out of order: column %d is %q, expected %q (order: %s)", j, got[j], want[j], strings.Join(want, ", "))
			}
		}
		return nil
	}
	return fmt.Errorf("features: %s (expected: %s)", strings.Join(parts, "; "), strings.Join(want, ", "))
}

// isNaN32 reports whether v is NaN.
func isNaN32(v float32) bool { return v != v }
