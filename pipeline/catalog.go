package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/dataset"
)

// CatalogItem is one catalog update: an item's external ID, its attributes (the data set's
// columns) and whether it may be recommended. An item the data set does not hold is added; one it
// holds keeps its dense ID.
type CatalogItem struct {
	ID        string
	Attrs     dataset.AttrValues
	Available bool
}

// Catalog is the living item catalog: the data set's items, and the items added or changed since
// (POST /v1/items, or UpsertItems from a program). It maps external item IDs to dense IDs — the
// data set's first, then added items' in the order this process first saw them — and says which
// items may be recommended. It outlives a bundle: a server attaches one catalog to every bundle
// it loads (UseCatalog), so a reload keeps the live items. It is safe for concurrent use.
type Catalog struct {
	ds *dataset.Dataset

	mu      sync.RWMutex
	added   map[string]int32 // items beyond the data set → dense ID
	names   []string         // dense ID ds.Items.Len()+k → external ID
	changed map[int32]*liveItem
	seq     uint64
	// off is the unavailable set, one bit per dense ID, replaced whole on each change so that a
	// request reads it without a lock.
	off atomic.Pointer[[]uint64]
}

// liveItem is the state of an item updated since the data set.
type liveItem struct {
	CatalogItem
	seq     uint64 // the catalog's change counter when it last changed
	attrSeq uint64 // … when its attributes last changed (what the models must re-embed)
}

// ErrItemNotFound is returned by RemoveItems for an ID the catalog does not hold.
var ErrItemNotFound = errors.New("item is not in the catalog")

// AttrError names the attribute column of a catalog update that is not valid.
type AttrError struct {
	Item   int    // index in the update
	Column string // "" when the item's ID is at fault
	Msg    string
}

func (e *AttrError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("item %d: %s", e.Item, e.Msg)
	}
	return fmt.Sprintf("item %d: attribute %q: %s", e.Item, e.Column, e.Msg)
}

// NewCatalog returns the catalog of ds with no change yet.
func NewCatalog(ds *dataset.Dataset) *Catalog {
	return &Catalog{ds: ds, added: map[string]int32{}, changed: map[int32]*liveItem{}}
}

// Lookup returns the dense ID of an external item ID (history.Catalog).
func (c *Catalog) Lookup(id string) (int32, bool) {
	if it, ok := c.ds.Items.Lookup(id); ok {
		return it, true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	it, ok := c.added[id]
	return it, ok
}

// String returns the external ID of dense ID it.
func (c *Catalog) String(it int32) string {
	if n := c.ds.Items.Len(); int(it) < n {
		return c.ds.Items.String(it)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.names[int(it)-c.ds.Items.Len()]
}

// Unavailable reports whether dense item it is taken out of every answer.
func (c *Catalog) Unavailable(it int32) bool {
	p := c.off.Load()
	if p == nil || it < 0 {
		return false
	}
	w := int(it) / 64
	return w < len(*p) && (*p)[w]>>(uint(it)%64)&1 == 1
}

// check checks an update's attributes against the data set's columns: a categorical column
// takes strings, a numeric one finite numbers; other columns are refused.
func (c *Catalog) check(i int, it *CatalogItem) error {
	if it.ID == "" {
		return &AttrError{Item: i, Msg: "the item ID is empty"}
	}
	attrs := c.ds.ItemAttrs
	for name, vs := range it.Attrs.Categorical {
		if attrs.Column(name) == nil {
			return &AttrError{Item: i, Column: name, Msg: c.columnHint(name, "categorical")}
		}
		if slices.Contains(vs, "") {
			return &AttrError{Item: i, Column: name, Msg: "an empty value"}
		}
	}
	for name, v := range it.Attrs.Numeric {
		if c.numeric(name) < 0 {
			return &AttrError{Item: i, Column: name, Msg: c.columnHint(name, "numeric")}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			return &AttrError{Item: i, Column: name, Msg: "not a finite number"}
		}
	}
	return nil
}

// columnHint says why column name does not take a value of kind.
func (c *Catalog) columnHint(name, kind string) string {
	var cat, num []string
	if a := c.ds.ItemAttrs; a != nil {
		for _, col := range a.Categorical {
			cat = append(cat, col.Name)
		}
		for _, col := range a.Numeric {
			num = append(num, col.Name)
		}
	}
	switch {
	case kind == "numeric" && slices.Contains(cat, name):
		return "a categorical column: give a string or an array of strings"
	case kind == "categorical" && slices.Contains(num, name):
		return "a numeric column: give a number"
	}
	return fmt.Sprintf("the data set has no item attribute of this name (categorical: %v, numeric: %v)", cat, num)
}

func (c *Catalog) numeric(name string) int {
	if c.ds.ItemAttrs == nil {
		return -1
	}
	for k := range c.ds.ItemAttrs.Numeric {
		if c.ds.ItemAttrs.Numeric[k].Name == name {
			return k
		}
	}
	return -1
}

// Check checks updates as Upsert does, without applying them: an *AttrError names the first bad
// one.
func (c *Catalog) Check(items []CatalogItem) error {
	for i := range items {
		if err := c.check(i, &items[i]); err != nil {
			return err
		}
	}
	return nil
}

// Upsert applies updates: every one is checked first (an *AttrError names the first bad one, and
// nothing is applied), then all at once. An item of the data set updated without attributes keeps
// the data set's.
func (c *Catalog) Upsert(items []CatalogItem) error {
	if err := c.Check(items); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range items {
		id, ok := c.ds.Items.Lookup(it.ID)
		if !ok {
			if id, ok = c.added[it.ID]; !ok {
				id = int32(c.ds.Items.Len() + len(c.names))
				c.added[it.ID] = id
				c.names = append(c.names, it.ID)
			}
		}
		if len(it.Attrs.Categorical) == 0 && len(it.Attrs.Numeric) == 0 && int(id) < c.ds.Items.Len() {
			it.Attrs = c.ds.ItemAttrs.Of(id)
		}
		c.seq++
		li := &liveItem{CatalogItem: it, seq: c.seq, attrSeq: c.seq}
		if prev := c.changed[id]; prev != nil && reflect.DeepEqual(prev.Attrs, it.Attrs) {
			li.attrSeq = prev.attrSeq
		}
		c.changed[id] = li
	}
	c.publish()
	return nil
}

// Remove takes items out of every answer (available: false, attributes kept).
func (c *Catalog) Remove(ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dense := make([]int32, len(ids))
	for i, id := range ids {
		it, ok := c.ds.Items.Lookup(id)
		if !ok {
			if it, ok = c.added[id]; !ok {
				return fmt.Errorf("item %q: %w", id, ErrItemNotFound)
			}
		}
		dense[i] = it
	}
	for i, it := range dense {
		li := c.changed[it]
		if li == nil {
			li = &liveItem{CatalogItem: CatalogItem{ID: ids[i], Attrs: c.ds.ItemAttrs.Of(it)}}
		}
		c.seq++
		next := *li
		next.Available, next.seq = false, c.seq
		c.changed[it] = &next
	}
	c.publish()
	return nil
}

// publish rebuilds the unavailable set. The caller holds c.mu.
func (c *Catalog) publish() {
	n := c.ds.Items.Len() + len(c.names)
	off := make([]uint64, (n+63)/64)
	for it, li := range c.changed {
		if !li.Available {
			off[it/64] |= 1 << (uint(it) % 64)
		}
	}
	c.off.Store(&off)
}

// Item returns the current state of item id: its last update, or the data set's attributes
// (available) for a data-set item never updated.
func (c *Catalog) Item(id string) (CatalogItem, bool) {
	it, ok := c.Lookup(id)
	if !ok {
		return CatalogItem{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if li := c.changed[it]; li != nil {
		return li.CatalogItem, true
	}
	return CatalogItem{ID: id, Attrs: c.ds.ItemAttrs.Of(it), Available: true}, true
}

// since returns the items whose attributes changed after change counter seq (dense IDs
// ascending) and the current counter.
func (c *Catalog) since(seq uint64) ([]int32, []CatalogItem, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ids []int32
	for it, li := range c.changed {
		if li.attrSeq > seq {
			ids = append(ids, it)
		}
	}
	slices.Sort(ids)
	items := make([]CatalogItem, len(ids))
	for i, it := range ids {
		items[i] = c.changed[it].CatalogItem
	}
	return ids, items, c.seq
}

// liveModel is a model that takes items added after training: the two-tower, whose item tower
// embeds an item from its attributes.
type liveModel interface {
	UseAttributes(*dataset.Attributes) error
	SetLiveItems([]twotower.LiveItem) error
}

// Catalog returns the living catalog the pipeline answers from (nil when it was opened without
// its data set).
func (p *Pipeline) Catalog() *Catalog { return p.catalog.Load() }

// UseCatalog makes the pipeline answer from c, a catalog of the same data set shared with other
// pipelines (a server's bundles, one after another), and applies c's items to the models.
func (p *Pipeline) UseCatalog(c *Catalog) error {
	if p.ds == nil || c.ds != p.ds {
		return errors.New("pipeline: the catalog is not of the data set the pipeline was opened with")
	}
	p.syncMu.Lock()
	p.catalog.Store(c)
	p.applied = 0
	p.syncMu.Unlock()
	return p.SyncCatalog()
}

// SyncCatalog applies the catalog's changes since the last call: an item outside the trained
// catalog whose attributes changed is checked against the file's filter (exclude list, rules)
// and embedded and inserted into the retrieval index of every model that takes live items.
// Availability needs no sync: the filter reads the catalog on every request.
func (p *Pipeline) SyncCatalog() error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	c := p.catalog.Load()
	if c == nil {
		return ErrNoCatalog
	}
	ids, items, seq := c.since(p.applied)
	var live []twotower.LiveItem
	var dropped map[int32]bool
	if p.filter != nil {
		dropped = map[int32]bool{}
		if old := p.liveDropped.Load(); old != nil && p.applied > 0 {
			dropped = maps.Clone(*old)
		}
	}
	for i, it := range ids {
		if int(it) >= p.numItems {
			live = append(live, twotower.LiveItem{ID: it, Attrs: items[i].Attrs})
			if p.filter != nil {
				dropped[it] = p.filter.drops(items[i].ID, items[i].Attrs)
			}
		}
	}
	if p.filter != nil {
		p.liveDropped.Store(&dropped)
	}
	if len(live) > 0 {
		for _, m := range p.liveModels() {
			if !p.attrsIn {
				if err := m.UseAttributes(p.ds.ItemAttrs); err != nil {
					return err
				}
			}
			if err := m.SetLiveItems(live); err != nil {
				return err
			}
		}
		p.attrsIn = true
	}
	p.applied = seq
	return nil
}

// liveModels returns the first-stage models that take live items, each once.
func (p *Pipeline) liveModels() []liveModel {
	var out []liveModel
	seen := map[liveModel]bool{}
	for _, name := range slices.Sorted(maps.Keys(p.models())) {
		if m, ok := p.models()[name].(liveModel); ok && !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// isLive reports whether item was added to the catalog beyond the trained one.
func (p *Pipeline) isLive(item int32) bool {
	c := p.catalog.Load()
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.changed[item]
	return ok
}

// UpsertItems adds or updates items in the pipeline's catalog and applies them to the models: an
// item new to the models can be recommended as soon as it returns. An invalid update is an
// *AttrError and changes nothing.
func (p *Pipeline) UpsertItems(ctx context.Context, items []CatalogItem) error {
	c, err := p.catalogFor(ctx)
	if err != nil {
		return err
	}
	if err := c.Upsert(items); err != nil {
		return err
	}
	return p.SyncCatalog()
}

// RemoveItems takes items out of every answer at once (ErrItemNotFound for an unknown ID).
func (p *Pipeline) RemoveItems(ctx context.Context, ids []string) error {
	c, err := p.catalogFor(ctx)
	if err != nil {
		return err
	}
	return c.Remove(ids)
}

// catalogFor returns the catalog a change through the pipeline applies to.
func (p *Pipeline) catalogFor(ctx context.Context) (*Catalog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c := p.catalog.Load(); c != nil {
		return c, nil
	}
	return nil, ErrNoCatalog
}
