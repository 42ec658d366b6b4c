// Package schemadiff compares the feature names a model reads with the names a caller supplies:
// the one comparison behind the rankers' schema checks (ranker.CheckFeatures,
// gbdt.Model.CheckFeatures), each of which words its own error.
package schemadiff

// Diff is how the names given differ from the names a model reads.
type Diff struct {
	Missing []string // read by the model, not given
	Extra   []string // given, not read by the model
	Moved   []Move   // in both, at another column (in the model's order)
}

// Move is a name found at different columns.
type Move struct {
	Name         string
	Model, Given int // columns; Given is the name's last column among the names given
}

// Compare returns the differences between the model's names and the names given. It is empty
// when the lists are equal; lists that differ only by repeated names give an empty Diff too.
func Compare(model, given []string) Diff {
	at := func(list []string) map[string]int {
		m := make(map[string]int, len(list))
		for i, s := range list {
			m[s] = i
		}
		return m
	}
	inModel, inGiven := at(model), at(given)
	var d Diff
	for i, s := range model {
		j, ok := inGiven[s]
		switch {
		case !ok:
			d.Missing = append(d.Missing, s)
		case j != i:
			d.Moved = append(d.Moved, Move{Name: s, Model: i, Given: j})
		}
	}
	for _, s := range given {
		if _, ok := inModel[s]; !ok {
			d.Extra = append(d.Extra, s)
		}
	}
	return d
}
