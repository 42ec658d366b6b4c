package pipeline

import (
	"errors"
	"fmt"

	"github.com/cascade-rec/cascade/dataset"
)

// exclusions marks the items the filter drops, or returns nil when it drops none.
func (c *Config) exclusions(ds *dataset.Dataset, numItems int) ([]bool, error) {
	if len(c.Filter.Exclude) == 0 && len(c.Filter.Rules) == 0 {
		return nil, nil
	}
	if ds == nil {
		return nil, errors.New("the filter's exclude list and rules need the data set (--data)")
	}
	ex := make([]bool, numItems)
	for _, id := range c.Filter.Exclude {
		if i, ok := ds.Items.Lookup(id); ok && int(i) < numItems {
			ex[i] = true
		}
	}
	for ri, r := range c.Filter.Rules {
		if col := ds.ItemAttrs.Column(r.Column); col != nil {
			drop := map[int32]bool{}
			for _, v := range r.Values {
				if id, ok := col.Dict.Lookup(v); ok {
					drop[id] = true
				}
			}
			for i := 0; i < numItems && i < len(col.Values); i++ {
				for _, v := range col.Values[i] {
					if drop[v] {
						ex[i] = true
					}
				}
			}
			continue
		}
		var num *dataset.NumericColumn
		if ds.ItemAttrs != nil {
			for k := range ds.ItemAttrs.Numeric {
				if ds.ItemAttrs.Numeric[k].Name == r.Column {
					num = &ds.ItemAttrs.Numeric[k]
				}
			}
		}
		if num == nil {
			return nil, c.errAt(fmt.Sprintf("$.filter.rules[%d].column", ri), fmt.Sprintf("filter.rules[%d].column", ri), "data set %s has no item attribute %q", ds.Name, r.Column)
		}
		for i := 0; i < numItems && i < len(num.Values); i++ {
			v := float64(num.Values[i])
			if (r.Min != nil && v < *r.Min) || (r.Max != nil && v > *r.Max) {
				ex[i] = true
			}
		}
	}
	return ex, nil
}
