package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// smallWorld is Small(1), generated once and written to a directory shared by the tests.
var smallWorld = sync.OnceValues(func() (*World, error) {
	return Generate(context.Background(), Small(1))
})

func small(t *testing.T) *World {
	t.Helper()
	w, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var smallDir = sync.OnceValues(func() (string, error) {
	w, err := smallWorld()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "synth-test-")
	if err != nil {
		return "", err
	}
	return dir, w.WriteDir(dir)
})

func written(t *testing.T) string {
	t.Helper()
	dir, err := smallDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := smallDir(); err == nil && dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestGenerateDeterministic(t *testing.T) {
	write := func(cfg Config) string {
		t.Helper()
		w, err := Generate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := w.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	cfg := Small(7)
	cfg.Users, cfg.Events, cfg.Impressions = 200, 5000, 300
	cfg.Workers = 1
	a := write(cfg)
	cfg.Workers = 3 // the split over workers must not show
	b := write(cfg)
	cfg.Seed = 8
	c := write(cfg)
	for _, name := range []string{EventsFile, ItemsFile, UsersFile, TruthFile, ImpressionsFile, ReadmeFile} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		z, err := os.ReadFile(filepath.Join(c, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds 7 and 8", name)
		}
	}
}

func TestGenerateFiles(t *testing.T) {
	w, dir := small(t), written(t)
	cfg := w.Config

	users := readCSV(t, filepath.Join(dir, UsersFile))
	if got := strings.Join(users[0], ","); got != UsersHeader {
		t.Fatalf("users header %q, want %q", got, UsersHeader)
	}
	userIDs := map[string]bool{}
	for _, row := range users[1:] {
		if len(row) != 3 || row[1] == "" || row[2] == "" {
			t.Fatalf("bad users row %q", row)
		}
		if _, err := strconv.ParseFloat(row[1], 64); err == nil {
			t.Errorf("segment %q parses as a number: the column would not be categorical", row[1])
		}
		userIDs[row[0]] = true
	}
	if len(userIDs) != cfg.Users {
		t.Errorf("%d distinct users, want %d", len(userIDs), cfg.Users)
	}

	items := readCSV(t, filepath.Join(dir, ItemsFile))
	if got := strings.Join(items[0], ","); got != ItemsHeader {
		t.Fatalf("items header %q, want %q", got, ItemsHeader)
	}
	genres := map[string]bool{}
	for _, g := range w.Genres {
		genres[g] = true
	}
	itemIDs := map[string]bool{}
	for _, row := range items[1:] {
		if len(row) != 4 {
			t.Fatalf("bad items row %q", row)
		}
		itemIDs[row[0]] = true
		for _, g := range strings.Split(row[1], "|") {
			if !genres[g] {
				t.Errorf("item %s has unknown genre %q", row[0], g)
			}
		}
		if _, err := strconv.Atoi(row[2]); err != nil {
			t.Errorf("item %s year %q is not an integer", row[0], row[2])
		}
		if p, err := strconv.ParseFloat(row[3], 64); err != nil || p <= 0 {
			t.Errorf("item %s price %q is not a positive number", row[0], row[3])
		}
	}
	if len(itemIDs) != cfg.Items {
		t.Errorf("%d distinct items, want %d", len(itemIDs), cfg.Items)
	}

	events := readCSV(t, filepath.Join(dir, EventsFile))
	if got := strings.Join(events[0], ","); got != EventsHeader {
		t.Fatalf("events header %q, want %q", got, EventsHeader)
	}
	if len(events)-1 != cfg.Events {
		t.Fatalf("%d events, want %d", len(events)-1, cfg.Events)
	}
	var last int64
	seen := map[[2]string]bool{}
	for n, row := range events[1:] {
		if !userIDs[row[0]] || !itemIDs[row[1]] {
			t.Fatalf("event %d %q names an unknown user or item", n, row)
		}
		ts, err := strconv.ParseInt(row[2], 10, 64)
		if err != nil || ts < w.Start || ts >= w.End {
			t.Fatalf("event %d timestamp %q outside [%d, %d)", n, row[2], w.Start, w.End)
		}
		if ts < last {
			t.Fatalf("event %d at %d is before the previous one at %d", n, ts, last)
		}
		last = ts
		if v, err := strconv.Atoi(row[3]); err != nil || v < 1 || v > 5 {
			t.Fatalf("event %d value %q is not a 1–5 integer", n, row[3])
		}
		key := [2]string{row[0], row[1]}
		if seen[key] {
			t.Fatalf("event %d: user %s consumes %s twice", n, row[0], row[1])
		}
		seen[key] = true
	}

	readme, err := os.ReadFile(filepath.Join(dir, ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{EventsHeader, ItemsHeader, UsersHeader, "impressions.jsonl", "truth.json", "| `seed` | 1 |"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not mention %q", want)
		}
	}
}

func TestGenerateEvents(t *testing.T) {
	w := small(t)
	for u := range w.Users {
		evs := w.UserEvents(u)
		if len(evs) != w.Users[u].Events || len(evs) < w.Config.MinUserEvents {
			t.Fatalf("user %d has %d events, planned %d", u, len(evs), w.Users[u].Events)
		}
		if first := w.Events[evs[0]].Time; first != w.Users[u].Arrival {
			t.Errorf("user %d: first event at %d, arrival %d", u, first, w.Users[u].Arrival)
		}
		for _, e := range evs {
			ev := w.Events[e]
			if int(ev.User) != u {
				t.Fatalf("UserEvents(%d) holds an event of user %d", u, ev.User)
			}
			if rel := w.Items[ev.Item].Release; ev.Time < rel {
				t.Fatalf("user %d consumes item %d at %d, before its release at %d", u, ev.Item, ev.Time, rel)
			}
		}
	}
	// A temporal split has cold users and items in its test part, and warm ones too.
	cut := len(w.Events) * 8 / 10
	users, items := map[int32]bool{}, map[int32]bool{}
	for _, e := range w.Events[:cut] {
		users[e.User], items[e.Item] = true, true
	}
	var coldUsers, coldItems int
	for _, e := range w.Events[cut:] {
		if !users[e.User] {
			coldUsers++
		}
		if !items[e.Item] {
			coldItems++
		}
	}
	test := float64(len(w.Events) - cut)
	if f := float64(coldUsers) / test; f < 0.05 || f > 0.5 {
		t.Errorf("%.2f of the test events are by cold users, want between 0.05 and 0.5", f)
	}
	if coldItems == 0 {
		t.Error("no test event is on a cold item")
	}
	var ratings [6]int
	for _, e := range w.Events {
		ratings[e.Rating]++
	}
	for v := 1; v <= 5; v++ {
		if ratings[v] == 0 {
			t.Errorf("no rating %d among %v", v, ratings[1:])
		}
	}
}

func TestGeneratePopularityLongTail(t *testing.T) {
	w := small(t)
	counts := make([]int, len(w.Items))
	for _, e := range w.Events {
		counts[e.Item]++
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	var head int
	for _, c := range counts[:len(counts)/10] {
		head += c
	}
	share := float64(head) / float64(len(w.Events))
	t.Logf("the top 10%% of items hold %.3f of the events", share)
	if share <= 0.4 {
		t.Errorf("the top 10%% of items hold %.3f of the events, want > 0.4", share)
	}
}

// heldOut calls f for a sample of the last 20% of events with the user's history before the
// event and the items the user could have taken instead.
func heldOut(w *World, n int, f func(e Event, history, candidates []int)) {
	cut := len(w.Events) * 8 / 10
	step := max(1, (len(w.Events)-cut)/n)
	taken := make([]bool, len(w.Items))
	for idx := cut; idx < len(w.Events); idx += step {
		e := w.Events[idx]
		var history []int
		for _, j := range w.UserEvents(int(e.User)) {
			if j >= int32(idx) {
				break
			}
			history = append(history, int(w.Events[j].Item))
		}
		for _, i := range history {
			taken[i] = true
		}
		var candidates []int
		for i := range w.Items {
			if !taken[i] && w.Items[i].Release <= e.Time {
				candidates = append(candidates, i)
			}
		}
		for _, i := range history {
			taken[i] = false
		}
		f(e, history, candidates)
	}
}

// rankOf is the number of candidates scored above the one at index target.
func rankOf(scores []float64, target int) int {
	r := 0
	for _, s := range scores {
		if s > scores[target] {
			r++
		}
	}
	return r
}

func TestGeneratePreferencesRecoverable(t *testing.T) {
	w := small(t)
	var hits, random float64
	var n int
	heldOut(w, 1500, func(e Event, history, candidates []int) {
		scores := make([]float64, len(candidates))
		target := slices.Index(candidates, int(e.Item))
		for j, i := range candidates {
			scores[j] = w.Affinity(int(e.User), i, e.Time, history)
		}
		if rankOf(scores, target) < 10 {
			hits++
		}
		random += 10 / float64(len(candidates))
		n++
	})
	hits, random = hits/float64(n), random/float64(n)
	t.Logf("HR@10 of the true affinity %.3f, of a random ranking %.3f", hits, random)
	if hits < 5*random {
		t.Errorf("HR@10 of the true affinity is %.3f, want at least 5× random (%.3f)", hits, random)
	}
}

func TestGenerateHistoryDependence(t *testing.T) {
	w := small(t)
	tau := w.Config.Temperature
	// The log-likelihood of the chosen item under softmax(score/τ + popularity logit), and HR@10.
	type result struct{ loglik, hits float64 }
	var withHistory, longTerm result
	var n int
	heldOut(w, 1500, func(e Event, history, candidates []int) {
		target := slices.Index(candidates, int(e.Item))
		for _, hist := range [][]int{history, nil} {
			res := &withHistory
			if hist == nil {
				res = &longTerm
			}
			logits := make([]float64, len(candidates))
			best := math.Inf(-1)
			for j, i := range candidates {
				logits[j] = w.Affinity(int(e.User), i, e.Time, hist)/tau + w.Items[i].PopularityLogit
				best = max(best, logits[j])
			}
			var z float64
			for _, l := range logits {
				z += math.Exp(l - best)
			}
			res.loglik += logits[target] - best - math.Log(z)
			if rankOf(logits, target) < 10 {
				res.hits++
			}
		}
		n++
	})
	fn := float64(n)
	t.Logf("with the recent items: log-likelihood %.3f, HR@10 %.3f; long-term taste alone: %.3f, %.3f",
		withHistory.loglik/fn, withHistory.hits/fn, longTerm.loglik/fn, longTerm.hits/fn)
	if withHistory.loglik/fn < longTerm.loglik/fn+0.1 {
		t.Errorf("the recent items add %.3f nats per event, want at least 0.1", (withHistory.loglik-longTerm.loglik)/fn)
	}
	if withHistory.hits <= longTerm.hits {
		t.Errorf("HR@10 with the recent items %.3f is not above long-term taste alone %.3f", withHistory.hits/fn, longTerm.hits/fn)
	}
}

func TestGenerateTruthRoundTrip(t *testing.T) {
	w, dir := small(t), written(t)
	tr, err := ReadTruth(filepath.Join(dir, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		u, i := r.IntN(len(w.Users)), r.IntN(len(w.Items))
		at := w.Start + r.Int64N(w.End-w.Start)
		h := w.History(u, at)
		if got, want := tr.Affinity(u, i, at, h), w.Affinity(u, i, at, h); got != want {
			t.Fatalf("Affinity(%d, %d, %d) from truth.json = %v, in memory %v", u, i, at, got, want)
		}
	}
	// Drift moves the long-term taste from start to end.
	u := 0
	if d := tr.Drift(u, tr.Users[u].Arrival); d != 0 {
		t.Errorf("drift at arrival = %v, want 0", d)
	}
	if d := tr.Drift(u, tr.End); math.Abs(d-w.Config.Drift*float64(tr.End-tr.Users[u].Arrival)/float64(tr.End-tr.Start)) > 1e-12 {
		t.Errorf("drift at the end = %v", d)
	}
}

func TestGenerateImpressions(t *testing.T) {
	w, dir := small(t), written(t)
	f, err := os.Open(filepath.Join(dir, ImpressionsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type line struct {
		RequestID string `json:"request_id"`
		UserID    string `json:"user_id"`
		Timestamp int64  `json:"timestamp"`
		Shown     []struct {
			ItemID     string  `json:"item_id"`
			Position   int     `json:"position"`
			Propensity float64 `json:"propensity"`
		} `json:"shown"`
		Clicked []string `json:"clicked"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var n, clicks int
	var last int64
	for sc.Scan() {
		var l line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if want := "r" + strconv.Itoa(n); l.RequestID != want {
			t.Fatalf("line %d has request_id %q, want %q", n+1, l.RequestID, want)
		}
		if l.Timestamp < last {
			t.Fatalf("request %s at %d is before the previous one", l.RequestID, l.Timestamp)
		}
		last = l.Timestamp
		u, err := strconv.Atoi(strings.TrimPrefix(l.UserID, "u"))
		if err != nil || u < 0 || u >= len(w.Users) {
			t.Fatalf("request %s has unknown user %q", l.RequestID, l.UserID)
		}
		if len(l.Shown) != w.Config.Shown {
			t.Fatalf("request %s shows %d items, want %d", l.RequestID, len(l.Shown), w.Config.Shown)
		}
		consumed := map[string]bool{}
		for _, i := range w.History(u, l.Timestamp) {
			consumed[w.Items[i].ID] = true
		}
		shown := map[string]bool{}
		for k, s := range l.Shown {
			if s.Position != k+1 {
				t.Fatalf("request %s: item %d at position %d", l.RequestID, k, s.Position)
			}
			if !(s.Propensity > 0 && s.Propensity <= 1) {
				t.Fatalf("request %s: propensity %v outside (0, 1]", l.RequestID, s.Propensity)
			}
			if shown[s.ItemID] || consumed[s.ItemID] {
				t.Fatalf("request %s shows %s twice or after the user consumed it", l.RequestID, s.ItemID)
			}
			shown[s.ItemID] = true
		}
		for _, c := range l.Clicked {
			if !shown[c] {
				t.Fatalf("request %s: clicked %s was not shown", l.RequestID, c)
			}
		}
		clicks += len(l.Clicked)
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != w.Config.Impressions {
		t.Fatalf("%d requests, want %d", n, w.Config.Impressions)
	}
	if clicks == 0 || clicks > n*w.Config.Shown/2 {
		t.Errorf("%d clicks on %d requests", clicks, n)
	}
}

// TestGenerateImpressionPropensities checks the logged propensities against the frequencies of
// the policy's own draws.
func TestGenerateImpressionPropensities(t *testing.T) {
	w := small(t)
	m := newModel(&w.Config)
	lg := newLogger(m, w)
	imp := w.Impressions[len(w.Impressions)/2]
	u := int(imp.User)
	// Rebuild the request's pool the way the logger does.
	taste := w.Users[u].PolicyTaste
	for i := range lg.policy {
		lg.policy[i] = w.Config.PolicyPopWeight*m.lp[i] + w.Config.PolicyAffinityWeight*(dot32(taste, m.q[i*m.k:(i+1)*m.k])+w.Items[i].Bias)/w.Config.Temperature
	}
	for _, i := range w.History(u, imp.Time) {
		lg.mark[i] = consumed
	}
	lg.fillPool(imp.Time)
	counts := map[[2]int32]int{}
	r := rand.New(rand.NewPCG(3, 4))
	const draws = 20000
	for range draws {
		for _, s := range lg.slate(r) {
			counts[[2]int32{s.Item, int32(s.Position)}]++
		}
	}
	for _, s := range imp.Shown {
		p := s.Propensity
		got := float64(counts[[2]int32{s.Item, int32(s.Position)}]) / draws
		if sd := math.Sqrt(p * (1 - p) / draws); math.Abs(got-p) > 5*sd+1e-4 {
			t.Errorf("item %d at position %d: logged propensity %.4f, drawn %.4f of the time", s.Item, s.Position, p, got)
		}
	}
}

// bruteMarginals enumerates every ordered prefix of depth items.
func bruteMarginals(w []float64, depth int) [][]float64 {
	n := len(w)
	out := make([][]float64, depth) // out[k][i]
	for k := range out {
		out[k] = make([]float64, n)
	}
	used := make([]bool, n)
	var rec func(k int, prob, left float64)
	rec = func(k int, prob, left float64) {
		if k == depth {
			return
		}
		for i := range n {
			if used[i] {
				continue
			}
			p := prob * w[i] / left
			out[k][i] += p
			used[i] = true
			rec(k+1, p, left-w[i])
			used[i] = false
		}
	}
	var total float64
	for _, x := range w {
		total += x
	}
	rec(0, 1, total)
	return out
}

func TestGeneratePLMarginals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + r.IntN(6)
		depth := 1 + r.IntN(min(n, 4))
		w := make([]float64, n)
		for i := range w {
			w[i] = math.Exp(r.NormFloat64() * 3)
		}
		want := bruteMarginals(w, depth)
		at := r.Perm(n)[:depth]
		got := plMarginals(w, at)
		for k, i := range at {
			if d := math.Abs(got[k] - want[k][i]); d > 1e-6*want[k][i] {
				t.Errorf("trial %d: P(position %d = item %d) = %.12g, want %.12g (w=%v)", trial, k, i, got[k], want[k][i], w)
			}
		}
	}
}

// TestGenerateSamplerExact compares the rejection sampler's draws with the exact softmax, with a
// proposal built for the current state and with stale ones.
func TestGenerateSamplerExact(t *testing.T) {
	for _, tc := range []struct {
		name             string
		taken            int     // items consumed before the draw
		refreshDays      int64   // the proposal was built this many days before the draw...
		refreshEvents    int     // ...after this many events
		shortTerm, drift float64 // model parameters
		draws            int
	}{
		{"fresh", 20, 0, 20, 0.4, 0.5, 100000},
		{"stale", 20, 20, 10, 0.4, 0.5, 100000},
		// So stale that most draws end in the exact fallback.
		{"from arrival", 70, 200, 0, 0.4, 1, 20000},
		{"long-term only", 40, 60, 5, 0, 0.5, 100000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Small(3)
			cfg.Items, cfg.Users, cfg.Events = 120, 10, 200
			cfg.ShortTermWeight, cfg.Drift = tc.shortTerm, tc.drift
			m := newModel(&cfg)
			s := newSampler(m)
			u := 4
			t0 := m.tr.Users[u].Arrival + 250*day
			r := rand.New(rand.NewPCG(5, 6))
			var history []int
			for _, i := range r.Perm(cfg.Items)[:tc.taken] {
				s.mark[i] = consumed
				history = append(history, i)
				for d, x := range m.q[i*m.k : (i+1)*m.k] {
					s.sum[d] += float64(x)
				}
			}
			for _, i := range m.late {
				if m.release[i] > t0 {
					s.mark[i] = unreleased
				}
			}
			for c := range m.clusters {
				mu := m.clusters[c].centroid
				s.startMu[c], s.endMu[c] = kernel.Dot64x32(mu, m.tr.Users[u].TasteStart), kernel.Dot64x32(mu, m.tr.Users[u].TasteEnd)
			}
			s.refresh(u, t0-tc.refreshDays*day, tc.refreshEvents)
			recent := history[len(history)-cfg.HistoryLen:]
			for _, i := range recent {
				s.addWindow(i, 1)
			}
			want := make([]float64, cfg.Items)
			var z float64
			for i := range want {
				if s.mark[i] == available {
					want[i] = math.Exp(m.tr.Affinity(u, i, t0, history)/cfg.Temperature + m.lp[i])
					z += want[i]
				}
			}
			m.tr.userVector(s.p, u, t0, slices.Values(recent))
			draws := float64(tc.draws)
			got := make([]float64, cfg.Items)
			for range tc.draws {
				i, aff := s.choose(r, m.tr.Drift(u, t0), len(recent))
				if i < 0 || s.mark[i] != available {
					t.Fatalf("drew unavailable item %d", i)
				}
				if want := m.tr.Affinity(u, i, t0, history); math.Abs(aff-want) > 1e-12 {
					t.Fatalf("affinity of item %d = %v, want %v", i, aff, want)
				}
				got[i]++
			}
			var chi2 float64
			dof := -1
			for i := range want {
				if want[i] == 0 {
					continue
				}
				e := want[i] / z * draws
				chi2 += (got[i] - e) * (got[i] - e) / e
				dof++
			}
			// χ² has mean dof and standard deviation √(2·dof).
			if limit := float64(dof) + 6*math.Sqrt(2*float64(dof)); chi2 > limit {
				t.Errorf("χ² = %.1f over %d degrees of freedom (limit %.1f): the draws do not follow the softmax", chi2, dof, limit)
			}
			t.Logf("χ² = %.1f, %d degrees of freedom, %.2f trials per draw, %d exact scans", chi2, dof, float64(s.trials)/draws, s.scans)
		})
	}
}

func TestGenerateAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for range 50 {
		n := 1 + r.IntN(50)
		limit := 1 + r.IntN(40)
		total := 1 + r.IntN(n*limit)
		activity := make([]float64, n)
		for u := range activity {
			activity[u] = math.Exp(2 * r.NormFloat64())
		}
		counts := allocate(total, activity, 3, limit)
		sum := 0
		for _, c := range counts {
			if c > limit || c < min(3, total/n, limit) {
				t.Fatalf("count %d outside [%d, %d]", c, min(3, total/n), limit)
			}
			sum += c
		}
		if sum != total {
			t.Fatalf("allocated %d of %d (n %d, limit %d)", sum, total, n, limit)
		}
	}
}

func TestGenerateValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(*Config)
		field  string
	}{
		{func(c *Config) { c.Users = 0 }, "Users"},
		{func(c *Config) { c.Items = -1 }, "Items"},
		{func(c *Config) { c.Events = 0 }, "Events"},
		{func(c *Config) { c.Factors = 0 }, "Factors"},
		{func(c *Config) { c.Drift = 1.5 }, "Drift"},
		{func(c *Config) { c.Temperature = math.NaN() }, "Temperature"},
		{func(c *Config) { c.PoolSize = 3 }, "PoolSize"},
		{func(c *Config) { c.Events = 1 << 30 }, "Events"},
	} {
		cfg := Small(1)
		tc.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate() = %v, want an error naming %s", err, tc.field)
		}
		if _, gerr := Generate(context.Background(), cfg); gerr == nil {
			t.Errorf("Generate accepted a config with a bad %s", tc.field)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	if err := Small(1).Validate(); err != nil {
		t.Errorf("Small: %v", err)
	}
}

func TestGenerateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Small(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
}

func BenchmarkGenerateSmall(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), Small(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
}
