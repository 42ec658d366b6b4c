package replay

import (
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/dataset"
)

// ProtocolLOO names the leave-one-out protocol in reports.
const ProtocolLOO = "loo"

// LOO is the leave-one-out protocol's view of a data set, the protocol of most published
// recommendation tables: every user with at least two events has their last event held out as
// the test (the latest; of events at the same time, the later in the file); the user's history is
// all their earlier events, and the ranking is over the whole train catalog with the history's
// items left out. Users with a single event only train. Run replays Split with the same code and
// metrics as replay-v1 (Options.Protocol = ProtocolLOO): one step per test user, all of them warm.
type LOO struct {
	// Train is the data set without the held-out events: what models of this protocol train on
	// (and what a bundle trained on it is opened with). Its dense IDs are reassigned as
	// dataset.Load assigns them, by first appearance in its own events, so that its catalog is an
	// ID prefix again; items and users that occur only in held-out events come next, then those
	// known only from attribute files. Attributes and titles follow their entities. Its Name is
	// the source's with "/loo" appended, so that a bundle names the protocol it was trained for.
	Train *dataset.Dataset
	// Split is what Run replays: Train's events as train, the held-out events (in Train's IDs, in
	// time order) as test, and the train catalog [0, TrainItems). Cut is the earliest held-out
	// event's time (the protocol has no global cut).
	Split dataset.Split
}

// LeaveOneOut splits ds, whose events are in time order (as dataset.Load returns them), for the
// leave-one-out protocol. It fails when no user has two events.
func LeaveOneOut(ds *dataset.Dataset) (*LOO, error) {
	last := make(map[int32]int, ds.NumUsers()) // user → index of their last event
	count := make(map[int32]int, ds.NumUsers())
	for i, e := range ds.Events {
		if e.User < 0 || int(e.User) >= ds.NumUsers() || e.Item < 0 || int(e.Item) >= ds.NumItems() {
			return nil, fmt.Errorf("leave-one-out: %s event %d has user %d, item %d outside its dictionaries (%d users, %d items)", ds.Name, i, e.User, e.Item, ds.NumUsers(), ds.NumItems())
		}
		last[e.User] = i
		count[e.User]++
	}
	held := make([]bool, len(ds.Events))
	heldOut := 0
	for u, i := range last {
		if count[u] >= 2 {
			held[i] = true
			heldOut++
		}
	}
	if heldOut == 0 {
		return nil, fmt.Errorf("leave-one-out: no user of %s has two events", ds.Name)
	}
	// New dense IDs: first appearance in the train part, then in the held-out events, then the
	// rest in their old order.
	users, userOld := remap(ds.Users, ds.Events, held, func(e dataset.Event) int32 { return e.User })
	items, itemOld := remap(ds.Items, ds.Events, held, func(e dataset.Event) int32 { return e.Item })
	userNew, itemNew := inverse(userOld), inverse(itemOld)
	train := make([]dataset.Event, 0, len(ds.Events)-heldOut)
	test := make([]dataset.Event, 0, heldOut)
	for i, e := range ds.Events {
		e.User, e.Item = userNew[e.User], itemNew[e.Item]
		if held[i] {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	out := &dataset.Dataset{
		Name:       ds.Name + "/loo",
		Format:     ds.Format,
		Users:      users,
		Items:      items,
		Events:     train,
		HasValues:  ds.HasValues,
		ItemAttrs:  permuteAttrs(ds.ItemAttrs, itemOld),
		UserAttrs:  permuteAttrs(ds.UserAttrs, userOld),
		ItemTitles: permute(ds.ItemTitles, itemOld),
		Skipped:    ds.Skipped,
	}
	split := dataset.Split{Train: train, Test: test}
	if len(test) > 0 {
		split.Cut = test[0].Time
	}
	for _, e := range train {
		split.TrainItems = max(split.TrainItems, int(e.Item)+1)
		split.TrainUsers = max(split.TrainUsers, int(e.User)+1)
	}
	return &LOO{Train: out, Split: split}, nil
}

// remap assigns new dense IDs to the entities of d (picked from each event by id): in order of
// first appearance in the events not held, then in the held events, then the remaining IDs in
// their old order. It returns the new dictionary and, by new ID, the old one.
func remap(d *dataset.Dict, events []dataset.Event, held []bool, id func(dataset.Event) int32) (*dataset.Dict, []int32) {
	nd := dataset.NewDict()
	old := make([]int32, 0, d.Len())
	add := func(o int32) {
		if int(nd.Add(d.String(o))) == len(old) {
			old = append(old, o)
		}
	}
	for _, pass := range []bool{false, true} {
		for i, e := range events {
			if held[i] == pass {
				add(id(e))
			}
		}
	}
	for o := range int32(d.Len()) {
		add(o)
	}
	return nd, old
}

// inverse turns a new → old table into old → new.
func inverse(old []int32) []int32 {
	inv := make([]int32, len(old))
	for n, o := range old {
		inv[o] = int32(n)
	}
	return inv
}

// permute reorders rows by new ID (rows[old[n]] becomes row n); nil stays nil.
func permute[T any](rows []T, old []int32) []T {
	if rows == nil {
		return nil
	}
	out := make([]T, len(old))
	for n, o := range old {
		if int(o) < len(rows) {
			out[n] = rows[o]
		}
	}
	return out
}

// permuteAttrs reorders an attribute table's rows by new ID; the value dictionaries are shared.
func permuteAttrs(a *dataset.Attributes, old []int32) *dataset.Attributes {
	if a == nil {
		return nil
	}
	out := &dataset.Attributes{
		Categorical: make([]dataset.CategoricalColumn, len(a.Categorical)),
		Numeric:     make([]dataset.NumericColumn, len(a.Numeric)),
	}
	for i, c := range a.Categorical {
		out.Categorical[i] = dataset.CategoricalColumn{Name: c.Name, Dict: c.Dict, Values: permute(c.Values, old)}
	}
	for i, c := range a.Numeric {
		vals := permute(c.Values, old)
		for n, o := range old {
			if int(o) >= len(c.Values) {
				vals[n] = float32(math.NaN()) // a row the table did not have: unknown
			}
		}
		out.Numeric[i] = dataset.NumericColumn{Name: c.Name, Values: vals}
	}
	return out
}
