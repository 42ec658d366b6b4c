package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// NamedScorer is a model whose score is a feature: score_<Name>, rank_<Name>, pmi_<Name>.
type NamedScorer struct {
	Name   string
	Scorer candidates.Scorer
}

// Extractor computes the feature rows of candidate batches: the Stats, the model scorers and the
// retrieval sources fixed at construction define its Schema. It is safe for concurrent use and
// keeps per-request scratch in a pool, so that a steady stream of requests allocates nothing.
type Extractor struct {
	st      *Stats
	models  []NamedScorer
	sources []string
	names   []string

	col      [numFixed]int // column of each fixed feature, -1 when absent
	modelCol [][3]int      // per model: score, rank, pmi columns (-1 when absent)
	srcCol   [][3]int      // per source: src, srcscore, srcrank
	attrCol  [][2]int      // per numeric column: attr, attrdiff

	// Which parts of the work the selected columns need.
	needItem, needDecay, needGenre, needCooc, needAttrMean bool

	recent int64         // item_recent_pop's window in seconds
	log1p  [1024]float32 // log(1 + c) for small co-occurrence counts
	pool   sync.Pool     // *scratch
}

// NewExtractor binds statistics, model scorers (in the order their columns appear) and retrieval
// source names into an extractor. Config.Features of st selects the columns; a feature listed by
// its full name that cannot be produced (score_x without a model x) is an error.
func NewExtractor(st *Stats, models []NamedScorer, sources []string) (*Extractor, error) {
	if st == nil {
		return nil, errors.New("features: NewExtractor: nil Stats")
	}
	x := &Extractor{st: st, models: slices.Clone(models), sources: slices.Clone(sources)}
	cfg := &st.cfg
	made := map[string]bool{}
	add := func(name, fam string) int {
		if !cfg.enabled(name, fam) {
			return -1
		}
		made[name] = true
		x.names = append(x.names, name)
		return len(x.names) - 1
	}
	suffixes := func(what string, list []string) ([]string, error) {
		out := make([]string, len(list))
		seen := map[string]string{}
		for k, name := range list {
			suf := snake(name)
			if suf == "" {
				return nil, fmt.Errorf("features: %s name %q gives an empty feature name", what, name)
			}
			if prev, ok := seen[suf]; ok {
				return nil, fmt.Errorf("features: %s names %q and %q give the same feature names (*_%s)", what, prev, name, suf)
			}
			seen[suf] = name
			out[k] = suf
		}
		return out, nil
	}
	modelNames := make([]string, len(models))
	for k, m := range models {
		if m.Scorer == nil {
			return nil, fmt.Errorf("features: model %q has a nil Scorer", m.Name)
		}
		modelNames[k] = m.Name
	}
	msuf, err := suffixes("model", modelNames)
	if err != nil {
		return nil, err
	}
	ssuf, err := suffixes("source", sources)
	if err != nil {
		return nil, err
	}

	x.modelCol = make([][3]int, len(models))
	for f, fam := range []int{famScore, famRank, famPMI} {
		for k, suf := range msuf {
			x.modelCol[k][f] = add(families[fam].name+"_"+suf, families[fam].name)
		}
	}
	x.srcCol = make([][3]int, len(sources))
	for f, fam := range []int{famSrc, famSrcScore, famSrcRank} {
		for k, suf := range ssuf {
			x.srcCol[k][f] = add(families[fam].name+"_"+suf, families[fam].name)
		}
	}
	for f := range numFixed {
		x.col[f] = -1
		if (f == fGenreShare || f == fGenreMatchMax) && st.catName == "" {
			continue // Build refused this when the feature was asked for by name
		}
		x.col[f] = add(fixed[f].name, "")
	}
	x.attrCol = make([][2]int, len(st.numCols))
	for f, fam := range []int{famAttr, famAttrDiff} {
		for k, suf := range st.numSuffix {
			x.attrCol[k][f] = add(families[fam].name+"_"+suf, families[fam].name)
		}
	}
	for _, f := range cfg.Features {
		if _, isFixed := fixedIndex(f); !made[f] && (isFixed || !isFamily(f)) {
			return nil, fmt.Errorf("features: feature %q is enabled but cannot be computed here (models: %s; sources: %s; numeric columns: %s)",
				f, strings.Join(modelNames, ", "), strings.Join(sources, ", "), strings.Join(st.numCols, ", "))
		}
	}

	has := func(fs ...fid) bool {
		for _, f := range fs {
			if x.col[f] >= 0 {
				return true
			}
		}
		return false
	}
	pmi := false
	for _, c := range x.modelCol {
		pmi = pmi || c[2] >= 0
	}
	x.needDecay = has(fLogPriorDecayed)
	x.needCooc = has(fCooc, fCoocMax, fCoocCos)
	x.needGenre = has(fGenreShare, fGenreMatchMax)
	x.needItem = pmi || x.needCooc || has(fLogPrior, fLogPriorDecayed, fItemAgeDays, fItemDaysSinceLast, fItemRecentPop, fItemMeanRating)
	for _, c := range x.attrCol {
		x.needAttrMean = x.needAttrMean || c[1] >= 0
	}
	x.recent = int64(math.Round(cfg.RecentDays * secondsPerDay))
	for c := range x.log1p {
		x.log1p[c] = float32(math.Log1p(float64(c)))
	}
	x.pool.New = func() any { return new(scratch) }
	return x, nil
}

func isFamily(s string) bool {
	for _, f := range families {
		if s == f.name {
			return true
		}
	}
	return false
}

// Schema returns the names of the columns Compute writes, in order, with the definitions'
// version.
func (x *Extractor) Schema() Schema {
	return Schema{Version: SchemaVersion, Names: slices.Clone(x.names)}
}

// FeatureNames returns the column names. It must not be modified.
func (x *Extractor) FeatureNames() []string { return x.names }

// NumFeatures is the width of a row.
func (x *Extractor) NumFeatures() int { return len(x.names) }

// Stats returns the statistics the extractor reads.
func (x *Extractor) Stats() *Stats { return x.st }

// Compute writes the feature rows of b to dst (grown if needed): len(b.Items) rows of
// NumFeatures values, row-major, NaN for missing values. It returns dst resized to the matrix.
func (x *Extractor) Compute(ctx context.Context, b *Batch, dst []float32) ([]float32, error) {
	nf := len(x.names)
	dst = kernel.Grow(dst, len(b.Items)*nf)
	return dst, x.Fill(ctx, b, dst, nf)
}

// Fill writes the features of candidate i to dst[i*stride : i*stride+NumFeatures()], leaving
// the rest of each row alone, so that the features can fill one block of a wider matrix.
func (x *Extractor) Fill(ctx context.Context, b *Batch, dst []float32, stride int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, nf := len(b.Items), len(x.names)
	if n == 0 {
		return nil
	}
	if stride < nf {
		return fmt.Errorf("features: stride %d is narrower than the %d features", stride, nf)
	}
	if len(dst) < (n-1)*stride+nf {
		return fmt.Errorf("features: dst holds %d values, want ≥ %d for %d rows of stride %d", len(dst), (n-1)*stride+nf, n, stride)
	}
	for k := range b.Sources {
		sl := &b.Sources[k]
		if len(sl.Ranks) != n || (sl.Scores != nil && len(sl.Scores) != n) {
			return fmt.Errorf("features: source %q has %d ranks and %d scores for %d candidates", sl.Name, len(sl.Ranks), len(sl.Scores), n)
		}
		if !slices.Contains(x.sources, sl.Name) {
			return fmt.Errorf("features: batch source %q is not one of the schema's sources (%s)", sl.Name, strings.Join(x.sources, ", "))
		}
		for j := range k {
			if b.Sources[j].Name == sl.Name {
				return fmt.Errorf("features: batch source %q is given twice", sl.Name)
			}
		}
	}
	s := x.pool.Get().(*scratch)
	defer x.pool.Put(s)
	s.prepare(n)
	for i, it := range b.Items {
		s.rep[i] = s.cand.insert(it, int32(i))
	}
	q := &b.Query
	if x.needItem {
		x.itemFeatures(s, b.Items, q.Time, dst, stride)
	}
	if err := x.modelFeatures(ctx, s, b, dst, stride); err != nil {
		return err
	}
	x.sourceFeatures(b, dst, stride)
	x.userFeatures(q, n, dst, stride)
	if x.needGenre || x.needCooc || x.needAttrMean {
		x.historySet(s, q.History)
	}
	if x.needGenre {
		x.genre(s, b.Items, dst, stride)
	}
	if x.needCooc {
		if err := x.cooc(ctx, s, b.Items, q.Time, dst, stride); err != nil {
			return err
		}
	}
	x.attrs(s, b.Items, dst, stride)
	return nil
}

// modelFeatures writes score_, rank_ and pmi_ of every model.
func (x *Extractor) modelFeatures(ctx context.Context, s *scratch, b *Batch, dst []float32, stride int) error {
	for k, m := range x.models {
		c := x.modelCol[k]
		if c[0] < 0 && c[1] < 0 && c[2] < 0 {
			continue
		}
		sc := s.col[:len(b.Items)]
		if err := m.Scorer.Score(ctx, b.Query, b.Items, sc); err != nil {
			return fmt.Errorf("features: score_%s: %w", snake(m.Name), err)
		}
		if c[1] >= 0 {
			s.ranks(sc)
		}
		for i, v := range sc {
			row := dst[i*stride:]
			if c[0] >= 0 {
				row[c[0]] = v
			}
			if c[1] >= 0 {
				row[c[1]] = s.rank[i]
			}
			if c[2] >= 0 {
				row[c[2]] = v - s.logPrior[i]
			}
		}
	}
	return nil
}

// sourceFeatures writes src_, srcscore_ and srcrank_ of every source; a source without a list
// in the batch proposed nothing.
func (x *Extractor) sourceFeatures(b *Batch, dst []float32, stride int) {
	nan := float32(math.NaN())
	for k, name := range x.sources {
		c := x.srcCol[k]
		var sl *SourceList
		for j := range b.Sources {
			if b.Sources[j].Name == name {
				sl = &b.Sources[j]
				break
			}
		}
		for i := range b.Items {
			src, score, rank := float32(0), nan, nan
			if sl != nil && sl.Ranks[i] > 0 {
				src, rank = 1, float32(sl.Ranks[i])
				if sl.Scores != nil {
					score = sl.Scores[i]
				}
			}
			row := dst[i*stride:]
			if c[0] >= 0 {
				row[c[0]] = src
			}
			if c[1] >= 0 {
				row[c[1]] = score
			}
			if c[2] >= 0 {
				row[c[2]] = rank
			}
		}
	}
}

// userFeatures writes the features of the user alone, the same in every row.
func (x *Extractor) userFeatures(q *candidates.Query, n int, dst []float32, stride int) {
	nan := float32(math.NaN())
	sinceLast, meanRating := nan, nan
	if h := len(q.History); h > 0 && len(q.HistoryTimes) == h {
		sinceLast = float32(float64(q.Time-q.HistoryTimes[h-1]) / secondsPerDay)
	}
	sum, cnt := 0.0, 0
	for _, v := range q.HistoryValues {
		if v == v {
			sum += float64(v)
			cnt++
		}
	}
	if cnt > 0 {
		meanRating = float32(sum / float64(cnt))
	}
	for _, u := range [...]struct {
		f fid
		v float32
	}{{fHistLen, float32(len(q.History))}, {fDaysSinceLast, sinceLast}, {fUserMeanRating, meanRating}} {
		if c := x.col[u.f]; c >= 0 {
			for i := range n {
				dst[i*stride+c] = u.v
			}
		}
	}
}
