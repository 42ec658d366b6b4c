package twotower

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/candidates/ann"
	"github.com/cascade-rec/cascade/dataset"
)

// Items added after training (a living catalog). The item tower is feature-based: besides the ID
// row it reads the item's attributes, so an item the model has never seen gets an embedding from
// its attributes alone, with the zero "unknown" ID row (the row training sees under
// Params.IDDropout). Such an item is inserted into the retrieval index at once and can be
// recommended before the next retrain.

// LiveItem is an item added after training: its dense ID (≥ NumItems; the caller's ID space,
// which may leave gaps) and its attributes.
type LiveItem struct {
	ID    int32
	Attrs dataset.AttrValues
}

// ErrNoAttributes is returned by SetLiveItems before UseAttributes.
var ErrNoAttributes = errors.New("twotower: live items need the training attributes (UseAttributes)")

// liveItems is one immutable snapshot of the items added after training; SetLiveItems publishes
// a new one, so searches read a consistent set without locks.
type liveItems struct {
	rowItem []int32             // index row NumItems+k → item; -1 for a row replaced since
	row     map[int32]int32     // item → its current index row
	vec     map[int32][]float32 // item → normalised embedding
}

// item returns the item of index row r (≥ numItems), or -1 for a row this snapshot does not hold.
func (l *liveItems) item(r int32, numItems int) int32 {
	k := int(r) - numItems
	if l == nil || k < 0 || k >= len(l.rowItem) {
		return -1
	}
	return l.rowItem[k]
}

func (l *liveItems) embedding(it int32) []float32 {
	if l == nil {
		return nil
	}
	return l.vec[it]
}

// UseAttributes gives the model the item attributes it was trained with (the data set's), which
// cold-start embeddings need: the categorical dictionaries and the numeric columns'
// standardisation, recomputed exactly as training computed them. Attributes of another shape
// than training's are refused.
func (m *Model) UseAttributes(attrs *dataset.Attributes) error {
	f, err := newItemFeatures(attrs, m.numItems)
	if err != nil {
		return err
	}
	a := &m.net.a
	cards := make([]int, len(f.cats))
	for i, c := range f.cats {
		cards[i] = c.card
	}
	if !slices.Equal(cards, a.catCards) || len(f.numNames) != a.numNumeric {
		return fmt.Errorf("twotower: the item attributes (categorical cardinalities %v, %d numeric) are not those the model was trained with (%v, %d)", cards, len(f.numNames), a.catCards, a.numNumeric)
	}
	m.liveMu.Lock()
	m.feats = f
	m.liveMu.Unlock()
	return nil
}

// ColdEmbeddings returns the item tower's embeddings (len(attrs) × Dim, normalised) of items known
// only by their attributes: the unknown ID row and the attributes. Categorical values the
// training data never had carry no information and are left out, as are columns the model does
// not read.
func (m *Model) ColdEmbeddings(attrs []dataset.AttrValues) ([]float32, error) {
	m.liveMu.Lock()
	f := m.feats
	m.liveMu.Unlock()
	if f == nil {
		return nil, ErrNoAttributes
	}
	rows := f.forValues(attrs)
	ids, unknown := make([]int32, len(attrs)), make([]int32, len(attrs))
	for i := range ids {
		ids[i], unknown[i] = int32(i), -1
	}
	out := make([]float32, len(attrs)*m.p.Dim)
	var w ws
	m.net.itemForward(&w, rows, ids, unknown, out)
	return out, nil
}

// forValues lays out the attributes of new items as feature rows 0…len(attrs)-1 with f's columns.
func (f *itemFeatures) forValues(attrs []dataset.AttrValues) *itemFeatures {
	n := len(attrs)
	g := &itemFeatures{numNames: f.numNames, means: f.means, stds: f.stds}
	for _, c := range f.cats {
		cf := catFeature{name: c.name, card: c.card, off: make([]int32, n+1)}
		for i, a := range attrs {
			for _, v := range a.Categorical[c.name] {
				if c.dict == nil {
					break
				}
				if id, ok := c.dict.Lookup(v); ok && int(id) < c.card {
					cf.ids = append(cf.ids, id)
				}
			}
			cf.off[i+1] = int32(len(cf.ids))
		}
		g.cats = append(g.cats, cf)
	}
	k := len(f.numNames)
	g.numeric = make([]float32, n*2*k)
	for i, a := range attrs {
		row := g.numeric[i*2*k:]
		for j, name := range f.numNames {
			v, ok := a.Numeric[name]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				row[2*j], row[2*j+1] = 0, 1
				continue
			}
			row[2*j] = float32((v - float64(f.means[j])) / float64(f.stds[j]))
		}
	}
	return g
}

// SetLiveItems embeds items added after training from their attributes and inserts them into the
// retrieval index; an item already added gets its new embedding (its old index row is deleted).
// IDs must be ≥ NumItems: a trained item keeps its trained embedding until the next retrain.
// Searches running meanwhile see the items before or after the call, never half of one.
func (m *Model) SetLiveItems(items []LiveItem) error {
	if len(items) == 0 {
		return nil
	}
	for _, it := range items {
		if it.ID < int32(m.numItems) {
			return fmt.Errorf("twotower: item %d is in the trained catalog (%d items): its embedding is the trained one", it.ID, m.numItems)
		}
	}
	g, ok := m.index.(ann.Growable)
	if !ok {
		return fmt.Errorf("twotower: the %T index does not take items after it is built", m.index)
	}
	attrs := make([]dataset.AttrValues, len(items))
	for i, it := range items {
		attrs[i] = it.Attrs
	}
	vecs, err := m.ColdEmbeddings(attrs)
	if err != nil {
		return err
	}
	m.liveMu.Lock()
	defer m.liveMu.Unlock()
	next := &liveItems{row: map[int32]int32{}, vec: map[int32][]float32{}}
	if old := m.live.Load(); old != nil {
		next.rowItem = slices.Clone(old.rowItem)
		next.row, next.vec = maps.Clone(old.row), maps.Clone(old.vec)
	}
	d := m.p.Dim
	iv := make([]float32, m.indexDim)
	for i, it := range items {
		v := vecs[i*d : (i+1)*d : (i+1)*d]
		copy(iv, v)
		if m.indexDim > d {
			iv[d] = float32(m.p.PriorBeta) * m.coldPrior
		}
		row, err := g.Add(iv)
		if err != nil {
			m.live.Store(next) // the items added so far are searchable; keep them consistent
			return fmt.Errorf("twotower: item %d: %w", it.ID, err)
		}
		if want := m.numItems + len(next.rowItem); int(row) != want {
			m.live.Store(next)
			return fmt.Errorf("twotower: the index gave row %d to item %d, want %d (modified outside the model)", row, it.ID, want)
		}
		next.rowItem = append(next.rowItem, it.ID)
		if prev, ok := next.row[it.ID]; ok {
			if err := g.Delete(prev); err != nil {
				return err
			}
			next.rowItem[int(prev)-m.numItems] = -1
		}
		next.row[it.ID], next.vec[it.ID] = row, v
	}
	m.live.Store(next)
	return nil
}

// LiveItems is the number of items added after training.
func (m *Model) LiveItems() int {
	if l := m.live.Load(); l != nil {
		return len(l.row)
	}
	return 0
}

// minPrior is the log prior of the least frequent trained item: the prior term a live item gets
// (it has no training events; add-one smoothing gives the same value to every unseen item).
func minPrior(lp []float32) float32 {
	if len(lp) == 0 {
		return 0
	}
	return slices.Min(lp)
}
