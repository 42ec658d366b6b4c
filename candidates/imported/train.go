package imported

import (
	"context"
	"errors"
	"fmt"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// Catalog is the training window an import is aligned to: the data set's dictionaries and the
// dense ID ranges of the window (items [0, NumItems), users [0, NumUsers)).
type Catalog struct {
	Items    *dataset.Dict
	NumItems int
	Users    *dataset.Dict
	NumUsers int
}

// Train "trains" an imported model: it reads and validates the files p names and aligns their
// rows to cat. A row whose external ID is not a catalog item (absent from the data set, or first
// seen after the window) is skipped, and so is a user row outside the window; both are counted in
// the model's Report, as are the catalog items the files have no vector for. A missing,
// malformed or inconsistent file is a *FileError naming the parameter, the file and the field.
func Train(ctx context.Context, p Params, cat Catalog) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("imported model: %w", err)
	}
	if cat.Items == nil || cat.NumItems < 0 || cat.NumItems > cat.Items.Len() || cat.NumUsers < 0 || (cat.NumUsers > 0 && (cat.Users == nil || cat.NumUsers > cat.Users.Len())) {
		return nil, errors.New("imported model: the catalog's ranges do not fit its dictionaries")
	}
	var items, users *factorTable
	var err error
	switch p.Format {
	case FormatSparkALS:
		items, users, err = readSpark(p)
	case FormatNPY:
		items, users, err = readNumpy(p)
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := items.k
	rep := Report{Format: p.Format, Factors: k, FileItems: len(items.keys)}
	itemVecs, hasItem, kept := align(items, cat.Items, cat.NumItems)
	rep.Items, rep.ItemsSkipped = kept, len(items.keys)-kept
	rep.CatalogItemsWithout = cat.NumItems - kept
	if kept == 0 && cat.NumItems > 0 {
		return nil, fileErr(items.param, items.file, nil, "none of its %d item IDs is in the catalog of %d items (first: %q; catalog's first: %q): are the IDs mapped right?",
			len(items.keys), cat.NumItems, items.keys[0], cat.Items.String(0))
	}
	var userVecs []float32
	hasUser := make([]bool, cat.NumUsers)
	if users != nil {
		userVecs, hasUser, kept = align(users, cat.Users, cat.NumUsers)
		rep.FileUsers, rep.Users, rep.UsersSkipped = len(users.keys), kept, len(users.keys)-kept
	} else {
		userVecs = make([]float32, cat.NumUsers*k)
	}
	q := p
	q.Fold = p.fold()
	gram := make([]float64, k*k) // over every item row of the file, the catalog's or not
	kernel.Gram(items.vecs, k, gram)
	return newModel(q, k, cat.NumItems, cat.NumUsers, itemVecs, userVecs, hasItem, hasUser, gram, rep), nil
}

// align places the rows of t whose key dict maps below n into a dense n×k matrix, and returns it
// with which rows are set and how many were.
func align(t *factorTable, dict *dataset.Dict, n int) (vecs []float32, has []bool, kept int) {
	k := t.k
	vecs, has = make([]float32, n*k), make([]bool, n)
	if dict == nil {
		return vecs, has, 0
	}
	for row, key := range t.keys {
		id, ok := dict.Lookup(key)
		if !ok || int(id) >= n {
			continue
		}
		copy(vecs[int(id)*k:int(id)*k+k], t.vecs[row*k:row*k+k])
		has[id] = true
		kept++
	}
	return vecs, has, kept
}
