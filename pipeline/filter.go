package pipeline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
)

// itemFilter is the file's filter on an item's ID and attributes: the exclude list and the
// attribute rules. One predicate serves the data set's items at load and items added live.
type itemFilter struct {
	exclude map[string]bool
	rules   []FilterRule
}

// itemFilter returns the file's filter, or nil when it drops nothing. Rules must name a column of
// ds.
func (c *Config) itemFilter(ds *dataset.Dataset) (*itemFilter, error) {
	if len(c.Filter.Exclude) == 0 && len(c.Filter.Rules) == 0 {
		return nil, nil
	}
	if ds == nil {
		return nil, errors.New("the filter's exclude list and rules need the data set (--data)")
	}
	f := &itemFilter{exclude: map[string]bool{}, rules: c.Filter.Rules}
	for _, id := range c.Filter.Exclude {
		f.exclude[id] = true
	}
	for ri, r := range c.Filter.Rules {
		if ds.ItemAttrs.Column(r.Column) == nil && !hasNumeric(ds.ItemAttrs, r.Column) {
			return nil, c.errAt(fmt.Sprintf("$.filter.rules[%d].column", ri), fmt.Sprintf("filter.rules[%d].column", ri), "data set %s has no item attribute %q", ds.Name, r.Column)
		}
	}
	return f, nil
}

func hasNumeric(a *dataset.Attributes, name string) bool {
	return a != nil && slices.ContainsFunc(a.Numeric, func(c dataset.NumericColumn) bool { return c.Name == name })
}

// drops reports whether the filter drops the item: listed, a categorical value a rule excludes,
// or a numeric value outside a rule's [min, max] (an unknown value is kept).
func (f *itemFilter) drops(id string, a dataset.AttrValues) bool {
	if f.exclude[id] {
		return true
	}
	for _, r := range f.rules {
		for _, v := range a.Categorical[r.Column] {
			if slices.Contains(r.Values, v) {
				return true
			}
		}
		if v, ok := a.Numeric[r.Column]; ok && ((r.Min != nil && v < *r.Min) || (r.Max != nil && v > *r.Max)) {
			return true
		}
	}
	return false
}

// exclusions marks the data set's items [0, numItems) the filter drops (nil for a nil filter).
func (f *itemFilter) exclusions(ds *dataset.Dataset, numItems int) []bool {
	if f == nil {
		return nil
	}
	ex := make([]bool, numItems)
	for i := range min(numItems, ds.Items.Len()) {
		ex[i] = f.drops(ds.Items.String(int32(i)), ds.ItemAttrs.Of(int32(i)))
	}
	return ex
}
