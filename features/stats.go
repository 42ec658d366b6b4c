package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

const secondsPerDay = 86400

// Stats is the state the features read: per item its event times (and ratings) in the window,
// the co-occurrence neighbour lists with the time of every co-occurrence, and the item attribute
// tables. Everything time-dependent is kept as sorted times, so a feature at time t counts only
// events before t, wherever t falls relative to the window. Stats is immutable and safe for
// concurrent use.
type Stats struct {
	cfg      Config
	numItems int

	// Per item, its events in time order: itemTimes[itemOff[i]:itemOff[i+1]].
	itemOff   []int
	itemTimes []int64
	itemVals  []float32 // nil when no event is rated; NaN marks an unrated event

	// Co-occurrence: item i's neighbours nbrItem[nbrOff[i]:nbrOff[i+1]] (ascending); pair p's
	// occurrence times pairTimes[pairOff[p]:pairOff[p+1]] (ascending), in seconds after base:
	// 32 bits halve the largest table.
	nbrOff    []int
	nbrItem   []int32
	pairOff   []int
	pairTimes []uint32
	base      int64 // the window's first event time

	// The categorical column of the genre features: item i's value IDs catVals[catOff[i]:catOff[i+1]].
	catName string // "" when the data set has no such column
	catOff  []int
	catVals []int32

	// Numeric attribute columns, numItems values each.
	numCols []string
	numVals [][]float32

	derived
}

// derived is recomputed from the saved fields (by Build and Load alike), so a loaded Stats is
// bit-identical to the built one.
type derived struct {
	lambda    float64   // decay rate per second: ln 2 / half-life
	itemDecay []float64 // per item event k: Σ_{k' ≤ k} e^(−λ(t_k − t_k')) over the item's events
	rateSum   []float64 // per item event k: running Σ of the rated values up to k
	rateCnt   []int32   // per item event k: running count of rated events up to k
	allTimes  []int64   // every event's time, ascending
	allDecay  []float64 // as itemDecay, over all events
	pairLast  []uint32  // per co-occurrence pair: its latest time, so the common "all before t" test stays in cache
	numSuffix []string  // feature-name suffix of each numeric column
	numValues int       // 1 + the largest attribute value ID (the size of per-value scratch)
}

// Build computes the statistics of a window of events (time-ordered; items outside [0, numItems)
// are ignored) and the item attributes of ds (nil for none). Features computed from them at a
// time t use only the events before t.
func Build(ctx context.Context, events []dataset.Event, numItems int, ds *dataset.Dataset, cfg Config) (*Stats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if numItems < 0 || numItems > math.MaxInt32 {
		return nil, fmt.Errorf("features: build: numItems = %d out of range", numItems)
	}
	s := &Stats{cfg: cfg, numItems: numItems}
	s.cfg.Features = slices.Clone(cfg.Features)
	s.cfg.NumericColumns = slices.Clone(cfg.NumericColumns)

	counts := make([]int, numItems+1)
	rated := false
	for k, e := range events {
		if k > 0 && e.Time < events[k-1].Time {
			return nil, fmt.Errorf("features: build: event %d (time %d) is earlier than event %d (time %d): events must be in time order", k, e.Time, k-1, events[k-1].Time)
		}
		if e.User < 0 {
			return nil, fmt.Errorf("features: build: event %d has negative user %d", k, e.User)
		}
		if e.Item >= 0 && int(e.Item) < numItems {
			counts[e.Item+1]++
			rated = rated || e.HasValue()
		}
	}
	for i := 1; i <= numItems; i++ {
		counts[i] += counts[i-1]
	}
	s.itemOff = counts
	n := counts[numItems]
	s.itemTimes = make([]int64, n)
	if rated {
		s.itemVals = make([]float32, n)
	}
	next := slices.Clone(counts[:numItems])
	for _, e := range events {
		if e.Item >= 0 && int(e.Item) < numItems {
			k := next[e.Item]
			next[e.Item]++
			s.itemTimes[k] = e.Time
			if rated {
				s.itemVals[k] = e.Value
			}
		}
	}

	if n > 0 {
		s.base = slices.Min(s.itemTimes)
		if span := uint64(slices.Max(s.itemTimes)) - uint64(s.base); span > math.MaxUint32 {
			return nil, fmt.Errorf("features: build: the events span %d seconds, more than the %d (136 years) the statistics store", span, uint32(math.MaxUint32))
		}
	}
	if err := s.buildAttrs(ds); err != nil {
		return nil, err
	}
	c, err := buildCooc(ctx, events, numItems, cfg.CoocTopK, cfg.CoocWindow, s.base)
	if err != nil {
		return nil, err
	}
	s.nbrOff, s.nbrItem, s.pairOff, s.pairTimes = c.nbrOff, c.nbrItem, c.pairOff, c.pairTimes
	s.derive()
	return s, nil
}

// buildAttrs copies the configured attribute columns of ds for the catalog.
func (s *Stats) buildAttrs(ds *dataset.Dataset) error {
	var attrs *dataset.Attributes
	if ds != nil {
		attrs = ds.ItemAttrs
	}
	s.catOff = make([]int, s.numItems+1)
	if col := attrs.Column(s.cfg.AttributeColumn); col != nil {
		s.catName = col.Name
		for i := 0; i < s.numItems; i++ {
			if i < len(col.Values) {
				for _, v := range col.Values[i] {
					if v < 0 || int(v) >= col.Dict.Len() {
						return fmt.Errorf("features: build: column %q: item %d has value ID %d outside its dictionary of %d", col.Name, i, v, col.Dict.Len())
					}
					s.catVals = append(s.catVals, v)
				}
			}
			s.catOff[i+1] = len(s.catVals)
		}
	} else {
		for _, f := range []fid{fGenreShare, fGenreMatchMax} {
			if s.cfg.explicit(fixed[f].name) {
				return fmt.Errorf("features: build: %s needs the categorical item column attribute_column = %q, which the data set lacks", fixed[f].name, s.cfg.AttributeColumn)
			}
		}
	}

	want := s.cfg.NumericColumns
	if len(want) == 0 && attrs != nil {
		for _, c := range attrs.Numeric {
			want = append(want, c.Name)
		}
	}
	for _, name := range want {
		var col *dataset.NumericColumn
		if attrs != nil {
			for k := range attrs.Numeric {
				if attrs.Numeric[k].Name == name {
					col = &attrs.Numeric[k]
				}
			}
		}
		if col == nil {
			return fmt.Errorf("features: build: numeric_columns: the data set has no numeric item column %q", name)
		}
		vals := make([]float32, s.numItems)
		for i := range vals {
			vals[i] = float32(math.NaN())
			if i < len(col.Values) {
				vals[i] = col.Values[i]
			}
		}
		suf := snake(name)
		for _, prev := range s.numCols {
			if snake(prev) == suf {
				return fmt.Errorf("features: build: numeric columns %q and %q give the same feature name attr_%s", prev, name, suf)
			}
		}
		if suf == "" {
			return fmt.Errorf("features: build: numeric column %q gives an empty feature name", name)
		}
		s.numCols = append(s.numCols, name)
		s.numVals = append(s.numVals, vals)
	}
	return nil
}

// derive computes the derived fields from the saved ones.
func (s *Stats) derive() {
	d := &s.derived
	d.lambda = math.Ln2 / (s.cfg.HalfLifeDays * secondsPerDay)
	d.itemDecay = make([]float64, len(s.itemTimes))
	for i := 0; i < s.numItems; i++ {
		lo, hi := s.itemOff[i], s.itemOff[i+1]
		decayRun(d.lambda, s.itemTimes[lo:hi], d.itemDecay[lo:hi])
	}
	if s.itemVals != nil {
		d.rateSum = make([]float64, len(s.itemVals))
		d.rateCnt = make([]int32, len(s.itemVals))
		for i := 0; i < s.numItems; i++ {
			sum, cnt := 0.0, int32(0)
			for k := s.itemOff[i]; k < s.itemOff[i+1]; k++ {
				if v := s.itemVals[k]; v == v {
					sum += float64(v)
					cnt++
				}
				d.rateSum[k], d.rateCnt[k] = sum, cnt
			}
		}
	}
	d.allTimes = slices.Clone(s.itemTimes)
	slices.Sort(d.allTimes)
	d.allDecay = make([]float64, len(d.allTimes))
	decayRun(d.lambda, d.allTimes, d.allDecay)
	d.pairLast = make([]uint32, len(s.nbrItem))
	for p := range d.pairLast {
		d.pairLast[p] = s.pairTimes[s.pairOff[p+1]-1]
	}
	d.numValues = 0
	for _, v := range s.catVals {
		d.numValues = max(d.numValues, int(v)+1)
	}
	d.numSuffix = make([]string, len(s.numCols))
	for k, c := range s.numCols {
		d.numSuffix[k] = snake(c)
	}
}

// decayRun sets a[k] = Σ_{k' ≤ k} e^(−λ(t_k − t_k')) by the recursion a[k] = a[k−1]·e^(−λΔt) + 1,
// which never forms large exponents, so long windows with short half-lives stay finite.
func decayRun(lambda float64, times []int64, a []float64) {
	acc := 0.0
	for k, t := range times {
		if k > 0 {
			acc *= math.Exp(-lambda * float64(t-times[k-1]))
		}
		acc++
		a[k] = acc
	}
}

// Config returns the configuration the statistics were built with.
func (s *Stats) Config() Config {
	c := s.cfg
	c.Features = slices.Clone(c.Features)
	c.NumericColumns = slices.Clone(c.NumericColumns)
	return c
}

// NumItems returns the catalog size: items [0, NumItems) have statistics.
func (s *Stats) NumItems() int { return s.numItems }

// NumEvents returns the number of catalog events in the window.
func (s *Stats) NumEvents() int { return len(s.itemTimes) }

// NumPairs returns the number of stored co-occurrence neighbour pairs and of their occurrence
// times (what bounds the memory of the co-occurrence features).
func (s *Stats) NumPairs() (pairs, occurrences int) { return len(s.nbrItem), len(s.pairTimes) }

// AttributeColumn returns the categorical column the genre features read, or "" when the data
// set had none (the genre features are then left out of the schema).
func (s *Stats) AttributeColumn() string { return s.catName }

// NumericColumns returns the numeric item columns of the attr features.
func (s *Stats) NumericColumns() []string { return slices.Clone(s.numCols) }

// countBefore returns the number of times before t (times ascending).
func countBefore[T int64 | uint32](times []T, t T) int {
	n := len(times)
	if n == 0 || times[n-1] < t {
		return n
	}
	return kernel.LowerBound(times, t)
}

// countBeforeGallop is countBefore for a t near the end of times (a recent window): it probes
// backwards in doubling steps first, so its cost grows with the log of the events after t, not
// of all of them.
func countBeforeGallop[T int64 | uint32](times []T, t T) int {
	hi := len(times)
	step := 1
	for hi > 0 {
		lo := max(hi-step, 0)
		if times[lo] < t {
			return lo + 1 + countBefore(times[lo+1:hi], t)
		}
		hi = lo
		step *= 2
	}
	return 0
}

// validate checks the consistency of the saved fields (for Load: a file that passes the
// checksum but is inconsistent, e.g. written by a buggy build, is refused too).
func (s *Stats) validate() error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	if s.numItems < 0 {
		return fmt.Errorf("numItems = %d", s.numItems)
	}
	if err := checkOffsets("item", s.itemOff, s.numItems, len(s.itemTimes)); err != nil {
		return err
	}
	if s.itemVals != nil && len(s.itemVals) != len(s.itemTimes) {
		return fmt.Errorf("%d ratings for %d events", len(s.itemVals), len(s.itemTimes))
	}
	for i := 0; i < s.numItems; i++ {
		if !slices.IsSorted(s.itemTimes[s.itemOff[i]:s.itemOff[i+1]]) {
			return fmt.Errorf("item %d: event times out of order", i)
		}
	}
	if err := checkOffsets("neighbour", s.nbrOff, s.numItems, len(s.nbrItem)); err != nil {
		return err
	}
	if err := checkOffsets("pair", s.pairOff, len(s.nbrItem), len(s.pairTimes)); err != nil {
		return err
	}
	for i := 0; i < s.numItems; i++ {
		nb := s.nbrItem[s.nbrOff[i]:s.nbrOff[i+1]]
		for k, j := range nb {
			if j < 0 || int(j) >= s.numItems || int(j) == i || (k > 0 && j <= nb[k-1]) {
				return fmt.Errorf("item %d: neighbour list invalid at entry %d (item %d)", i, k, j)
			}
		}
	}
	for p := range s.nbrItem {
		ts := s.pairTimes[s.pairOff[p]:s.pairOff[p+1]]
		if len(ts) == 0 || !slices.IsSorted(ts) {
			return fmt.Errorf("co-occurrence pair %d: empty or unsorted times", p)
		}
	}
	if err := checkOffsets("attribute", s.catOff, s.numItems, len(s.catVals)); err != nil {
		return err
	}
	for _, v := range s.catVals {
		// Value IDs size per-request scratch: bound them by what a dictionary could hold.
		if v < 0 || int(v) > len(s.catVals)+1<<20 {
			return fmt.Errorf("attribute value ID %d out of range", v)
		}
	}
	if s.catName == "" && len(s.catVals) > 0 {
		return errors.New("attribute values without a column name")
	}
	if len(s.numCols) != len(s.numVals) {
		return fmt.Errorf("%d numeric column names for %d columns", len(s.numCols), len(s.numVals))
	}
	seen := map[string]bool{}
	for k, v := range s.numVals {
		suf := snake(s.numCols[k])
		if len(v) != s.numItems || suf == "" || seen[suf] {
			return fmt.Errorf("numeric column %q: %d values for %d items, or an empty or repeated feature name", s.numCols[k], len(v), s.numItems)
		}
		seen[suf] = true
	}
	return nil
}

func checkOffsets(what string, off []int, n, total int) error {
	if len(off) != n+1 || off[0] != 0 || off[n] != total {
		return fmt.Errorf("%s offsets: %d entries for %d rows, or not spanning %d values", what, len(off), n, total)
	}
	for i := 1; i <= n; i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("%s offsets decrease at row %d", what, i)
		}
	}
	return nil
}

// SizeBytes estimates the memory the statistics hold (the tables, not the Go headers).
func (s *Stats) SizeBytes() int {
	n := 8 * (len(s.itemOff) + len(s.itemTimes) + len(s.nbrOff) + len(s.pairOff) + len(s.catOff) +
		len(s.itemDecay) + len(s.rateSum) + len(s.allTimes) + len(s.allDecay))
	n += 4 * (len(s.itemVals) + len(s.nbrItem) + len(s.pairTimes) + len(s.catVals) + len(s.rateCnt) + len(s.pairLast))
	for _, v := range s.numVals {
		n += 4 * len(v)
	}
	return n
}
