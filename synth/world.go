package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// truthVersion is the format version of truth.json.
const truthVersion = 1

// Truth is the ground-truth preference model of a world, as stored in truth.json. Users and items
// are indexed by their number: user "u7" is Users[7], item "i42" is Items[42].
type Truth struct {
	Version int    `json:"version"`
	Config  Config `json:"config"`
	Start   int64  `json:"start"` // Unix seconds; every timestamp is in [Start, End)
	End     int64  `json:"end"`
	// Model restates the formulas in words for a human reading the file.
	Model        string      `json:"model"`
	Genres       []string    `json:"genres"`
	GenreFactors [][]float32 `json:"genre_factors"`
	Items        []ItemTruth `json:"items"`
	Users        []UserTruth `json:"users"`
}

// ItemTruth is one item's parameters and attributes.
type ItemTruth struct {
	ID      string    `json:"id"`
	Genres  []int     `json:"genres"`  // indices into Truth.Genres, ascending
	Factors []float32 `json:"factors"` // mean of the genres' factors plus noise
	// PopularityLogit is −Zipf·ln(popularity rank); the choice logit adds it to affinity/τ.
	PopularityLogit float64 `json:"popularity_logit"`
	// Bias is the item's part of the affinity shared by all users; it falls with the
	// popularity rank (popular items are liked more).
	Bias    float64 `json:"bias"`
	Release int64   `json:"release"` // not consumable before this time
	Year    int     `json:"year"`
	Price   float64 `json:"price"`
}

// UserTruth is one user's parameters and attributes.
type UserTruth struct {
	ID          string `json:"id"`
	Arrival     int64  `json:"arrival"`      // time of the user's first event
	ActiveUntil int64  `json:"active_until"` // sessions start no later than this
	Segment     string `json:"segment"`
	Country     string `json:"country"`
	// TasteStart and TasteEnd are the long-term taste at arrival and the one it drifts towards;
	// each mixes the genres listed beside it.
	StartGenres []int     `json:"start_genres"`
	TasteStart  []float32 `json:"taste_start"`
	EndGenres   []int     `json:"end_genres"`
	TasteEnd    []float32 `json:"taste_end"`
	// PolicyTaste is the logging policy's noisy copy of TasteStart.
	PolicyTaste []float32 `json:"policy_taste"`
	Events      int       `json:"events"`
}

// World is a generated world: the truth model, the event stream and the logged impressions.
type World struct {
	*Truth
	// Events in time order; ties by user, then by the user's own order.
	Events []Event
	// Impressions in time order; Impressions[n] has request ID "r<n>".
	Impressions []Impression

	// byUser[u] lists user u's events in their order, as indices into Events.
	byUser [][]int32
}

// Event is one consumption with its 1–5 rating. User and Item are indices into Truth.Users and
// Truth.Items.
type Event struct {
	User   int32
	Item   int32
	Time   int64
	Rating int8
}

// Impression is one request logged from the logging policy.
type Impression struct {
	User    int32
	Time    int64
	Shown   []Shown // in position order
	Clicked []int32 // items clicked, in position order; a subset of Shown
}

// Shown is one item of a logged slate.
type Shown struct {
	Item     int32
	Position int // 1-based
	// Propensity is the probability that the logging policy puts this item at this position
	// (marginal over the rest of the slate).
	Propensity float64
}

// Drift returns how far user has moved from the start taste towards the end taste at time t, in
// [0, 1].
func (tr *Truth) Drift(user int, t int64) float64 {
	u := &tr.Users[user]
	horizon := float64(tr.End - tr.Start)
	d := tr.Config.Drift * float64(t-u.Arrival) / horizon
	return min(max(d, 0), 1)
}

// Affinity is the true affinity of user for item at time t after consuming recentHistory (the
// user's items in time order; only the last Config.HistoryLen count):
//
//	long  = (1−d)·TasteStart + d·TasteEnd, d = Drift(user, t)
//	short = mean factors of the last HistoryLen items of recentHistory
//	p     = (1−β)·long + β·short, or long when recentHistory is empty
//	affinity = p · item factors + item bias
//
// An item is consumed with probability proportional to exp(affinity/τ + PopularityLogit) among
// the released items the user has not consumed.
func (tr *Truth) Affinity(user, item int, t int64, recentHistory []int) float64 {
	k := tr.Config.Factors
	var buf [64]float64
	p := buf[:0]
	if k > len(buf) {
		p = make([]float64, 0, k)
	}
	p = tr.userVector(p[:k], user, t, func(yield func(int) bool) {
		for _, i := range recentHistory[max(0, len(recentHistory)-tr.Config.HistoryLen):] {
			if !yield(i) {
				return
			}
		}
	})
	return kernel.Dot64x32(p, tr.Items[item].Factors) + tr.Items[item].Bias
}

// userVector sets p to the user's preference vector at t given the recent items (at most
// HistoryLen of them, oldest first) and returns it.
func (tr *Truth) userVector(p []float64, user int, t int64, recent func(yield func(int) bool)) []float64 {
	u := &tr.Users[user]
	d := tr.Drift(user, t)
	for k := range p {
		p[k] = (1-d)*float64(u.TasteStart[k]) + d*float64(u.TasteEnd[k])
	}
	beta := tr.Config.ShortTermWeight
	if beta == 0 {
		return p
	}
	var n int
	var sum [64]float64
	s := sum[:0]
	if len(p) > len(sum) {
		s = make([]float64, 0, len(p))
	}
	s = s[:len(p)]
	for i := range recent {
		for k, f := range tr.Items[i].Factors {
			s[k] += float64(f)
		}
		n++
	}
	if n == 0 {
		return p
	}
	for k := range p {
		p[k] = (1-beta)*p[k] + beta*s[k]/float64(n)
	}
	return p
}

// History returns the items user consumed strictly before t, in time order.
func (w *World) History(user int, t int64) []int {
	var h []int
	for _, e := range w.byUser[user] {
		ev := w.Events[e]
		if ev.Time >= t {
			break
		}
		h = append(h, int(ev.Item))
	}
	return h
}

// UserEvents returns user's events in order as indices into Events. The slice must not be
// modified.
func (w *World) UserEvents(user int) []int32 { return w.byUser[user] }

// ReadTruth reads a truth.json written by WriteDir.
func ReadTruth(path string) (*Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var tr Truth
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&tr); err != nil {
		return nil, fmt.Errorf("synth: reading %s: %w", path, err)
	}
	if tr.Version != truthVersion {
		return nil, fmt.Errorf("synth: %s has version %d, want %d", path, tr.Version, truthVersion)
	}
	if err := tr.check(); err != nil {
		return nil, fmt.Errorf("synth: %s: %w", path, err)
	}
	return &tr, nil
}

// check verifies the shapes Affinity relies on.
func (tr *Truth) check() error {
	k := tr.Config.Factors
	if k <= 0 || tr.Config.HistoryLen <= 0 || tr.End <= tr.Start {
		return fmt.Errorf("bad config (factors %d, history_len %d, window [%d, %d))", k, tr.Config.HistoryLen, tr.Start, tr.End)
	}
	for i := range tr.Items {
		if len(tr.Items[i].Factors) != k {
			return fmt.Errorf("item %d has %d factors, want %d", i, len(tr.Items[i].Factors), k)
		}
	}
	for i := range tr.Users {
		u := &tr.Users[i]
		if len(u.TasteStart) != k || len(u.TasteEnd) != k {
			return fmt.Errorf("user %d has tastes of length %d and %d, want %d", i, len(u.TasteStart), len(u.TasteEnd), k)
		}
	}
	return nil
}
