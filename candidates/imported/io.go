package imported

import (
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/params"
)

// format is the artifact kind and version of a saved model.
var format = artifact.Format{Kind: "imported", Version: 1}

// Save writes the aligned model to path as an artifact of kind "imported" and returns the
// file's hex SHA-256. The artifact holds everything serving needs (the files it came from are
// named for the record only), so a bundle serves without them.
func (m *Model) Save(path string) (string, error) {
	return format.Save(path, func(e *artifact.Encoder) {
		p := m.p
		for _, s := range []string{p.Format, p.Path, p.Items, p.Users, p.ItemIDs, p.UserIDs, p.fold()} {
			e.String(s)
		}
		e.Bool(p.FoldIn)
		e.Bool(p.Implicit)
		e.Float64(p.Reg)
		e.Float64(p.Alpha)
		e.Int(p.HistoryLen)
		e.Int(m.k)
		e.Int(m.numItems)
		e.Int(m.numUsers)
		e.Float32s(m.items)
		e.Int32s(without(m.hasItem))
		e.Float32s(m.users)
		e.Int32s(without(m.hasUser))
		e.Float64s(m.gram)
		r := m.report
		for _, v := range []int{r.FileItems, r.Items, r.ItemsSkipped, r.CatalogItemsWithout, r.FileUsers, r.Users, r.UsersSkipped} {
			e.Int(v)
		}
	})
}

// Load reads a model written by Save. A damaged or inconsistent file is refused with an error
// wrapping artifact.ErrCorrupt.
func Load(path string) (*Model, error) {
	return artifact.Load(path, format, decode)
}

func decode(payload []byte) (*Model, error) {
	d := artifact.NewDecoder(payload)
	var p Params
	for _, s := range []*string{&p.Format, &p.Path, &p.Items, &p.Users, &p.ItemIDs, &p.UserIDs, &p.Fold} {
		*s = d.String()
	}
	p.FoldIn = d.Bool()
	p.Implicit = d.Bool()
	p.Reg = d.Float64()
	p.Alpha = d.Float64()
	p.HistoryLen = d.Int()
	k, numItems, numUsers := d.Int(), d.Int(), d.Int()
	items := d.Float32s()
	noItem := d.Int32s()
	users := d.Float32s()
	noUser := d.Int32s()
	gram := d.Float64s()
	rep := Report{Format: p.Format, Factors: k}
	for _, v := range []*int{&rep.FileItems, &rep.Items, &rep.ItemsSkipped, &rep.CatalogItemsWithout, &rep.FileUsers, &rep.Users, &rep.UsersSkipped} {
		*v = d.Int()
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", artifact.ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if err := p.Validate(); err != nil {
		return nil, corrupt("parameters: %v", err)
	}
	if k < 1 || k > maxFactors || numItems < 0 || numUsers < 0 || numItems > math.MaxInt32 || numUsers > math.MaxInt32 ||
		len(items) != numItems*k || len(users) != numUsers*k || len(gram) != k*k {
		return nil, corrupt("shapes: %d item values, %d user values, %d Gramian entries for %d items, %d users, %d factors", len(items), len(users), len(gram), numItems, numUsers, k)
	}
	hasItem, ok := presence(numItems, noItem)
	if !ok {
		return nil, corrupt("the list of items without a vector is out of range or unsorted")
	}
	hasUser, ok := presence(numUsers, noUser)
	if !ok {
		return nil, corrupt("the list of users without a vector is out of range or unsorted")
	}
	for _, f := range [][]float32{items, users} {
		for _, v := range f {
			if !params.Finite(float64(v)) {
				return nil, corrupt("non-finite factor %v", v)
			}
		}
	}
	for _, v := range gram {
		if !params.Finite(v) {
			return nil, corrupt("non-finite Gramian entry %v", v)
		}
	}
	return newModel(p, k, numItems, numUsers, items, users, hasItem, hasUser, gram, rep), nil
}

// without lists the IDs whose has entry is false, ascending.
func without(has []bool) []int32 {
	var out []int32
	for i, h := range has {
		if !h {
			out = append(out, int32(i))
		}
	}
	return out
}

// presence inverts without: n entries, false at the (strictly ascending, in-range) IDs of none.
func presence(n int, none []int32) ([]bool, bool) {
	has := make([]bool, n)
	for i := range has {
		has[i] = true
	}
	for j, id := range none {
		if id < 0 || int(id) >= n || (j > 0 && id <= none[j-1]) {
			return nil, false
		}
		has[id] = false
	}
	return has, true
}
