package synth

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
)

func TestDevStats(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	cfg := Small(1)
	if os.Getenv("SYNTH_BIG") != "" {
		cfg = DefaultConfig()
		cfg.Users, cfg.Items, cfg.Events = 1500, 1200, 100000
	}
	if v := os.Getenv("USERS"); v != "" {
		cfg.Users, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("ITEMS"); v != "" {
		cfg.Items, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("IB"); v != "" {
		cfg.ItemBias, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TAU"); v != "" {
		cfg.Temperature, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("ZIPF"); v != "" {
		cfg.Zipf, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("ACTIVE"); v != "" {
		cfg.ActiveDays, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("INITIAL"); v != "" {
		cfg.InitialUsers, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("BIAS"); v != "" {
		cfg.RatingBias, _ = strconv.ParseFloat(v, 64)
	}
	w, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ratings [6]int
	cnt := make([]int, len(w.Items))
	for _, e := range w.Events {
		ratings[e.Rating]++
		cnt[e.Item]++
	}
	t.Logf("ratings %v", ratings[1:])
	sorted := slices.Clone(cnt)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	top := 0
	for _, c := range sorted[:len(sorted)/10] {
		top += c
	}
	zero := 0
	for _, c := range cnt {
		if c == 0 {
			zero++
		}
	}
	bound := 0
	for u := range w.Users {
		bound += min(len(w.UserEvents(u)), len(w.Items)/10)
	}
	t.Logf("upper bound on top share %.3f", float64(bound)/float64(len(w.Events)))
	t.Logf("top10%% share %.3f, items never consumed %d", float64(top)/float64(len(w.Events)), zero)
	// held-out: last 20%
	cut := len(w.Events) * 8 / 10
	trainUsers := map[int32]bool{}
	trainItems := map[int32]bool{}
	for _, e := range w.Events[:cut] {
		trainUsers[e.User] = true
		trainItems[e.Item] = true
	}
	coldU, coldI := 0, 0
	for _, e := range w.Events[cut:] {
		if !trainUsers[e.User] {
			coldU++
		}
		if !trainItems[e.Item] {
			coldI++
		}
	}
	late := 0
	for _, u := range w.Users {
		if u.Arrival >= w.Events[cut].Time {
			late++
		}
	}
	t.Logf("cut at %.3f of window; users arriving after: %.3f", float64(w.Events[cut].Time-w.Start)/float64(w.End-w.Start), float64(late)/float64(len(w.Users)))
	t.Logf("test events with cold user %.3f, cold item %.3f", float64(coldU)/float64(len(w.Events)-cut), float64(coldI)/float64(len(w.Events)-cut))
	// HR@10 of full affinity, long-term only, short-only, popularity, random; and log-lik
	hist := make([][]int, len(w.Users))
	for _, e := range w.Events[:cut] {
		hist[e.User] = append(hist[e.User], int(e.Item))
	}
	var hrFull, hrLong, hrPop, hrRand, llFull, llLong float64
	n := 0
	step := max(1, (len(w.Events)-cut)/3000)
	for idx := cut; idx < len(w.Events); idx++ {
		e := w.Events[idx]
		if (idx-cut)%step == 0 {
			h := hist[e.User]
			seen := map[int]bool{}
			for _, i := range h {
				seen[i] = true
			}
			var full, long, pop []float64
			target := -1
			for i := range w.Items {
				if seen[i] || w.Items[i].Release > e.Time {
					continue
				}
				if i == int(e.Item) {
					target = len(full)
				}
				full = append(full, w.Affinity(int(e.User), i, e.Time, h))
				long = append(long, w.Affinity(int(e.User), i, e.Time, nil))
				pop = append(pop, w.Items[i].PopularityLogit)
			}
			rank := func(s []float64) int {
				r := 0
				for _, x := range s {
					if x > s[target] {
						r++
					}
				}
				return r
			}
			if rank(full) < 10 {
				hrFull++
			}
			if rank(long) < 10 {
				hrLong++
			}
			if rank(pop) < 10 {
				hrPop++
			}
			hrRand += 10 / float64(len(full))
			ll := func(s []float64) float64 {
				best := math.Inf(-1)
				for j, x := range s {
					best = max(best, x/cfg.Temperature+pop[j])
				}
				var z float64
				for j, x := range s {
					z += math.Exp(x/cfg.Temperature + pop[j] - best)
				}
				return s[target]/cfg.Temperature + pop[target] - best - math.Log(z)
			}
			llFull += ll(full)
			llLong += ll(long)
			n++
		}
		hist[e.User] = append(hist[e.User], int(e.Item))
	}
	fn := float64(n)
	t.Logf("n %d: HR@10 full %.3f long %.3f pop %.3f random %.3f; loglik full %.3f long %.3f", n, hrFull/fn, hrLong/fn, hrPop/fn, hrRand/fn, llFull/fn, llLong/fn)
	// impressions
	var shown, clicks int
	var minProp, maxProp = 1.0, 0.0
	pos1 := 0.0
	for _, imp := range w.Impressions {
		shown += len(imp.Shown)
		clicks += len(imp.Clicked)
		for _, s := range imp.Shown {
			minProp = min(minProp, s.Propensity)
			maxProp = max(maxProp, s.Propensity)
			if s.Position == 1 {
				pos1 += s.Propensity
			}
		}
	}
	t.Logf("impressions %d shown %d clicks %d (%.3f per request); propensity [%.3g, %.3g], mean pos1 %.3f", len(w.Impressions), shown, clicks, float64(clicks)/float64(len(w.Impressions)), minProp, maxProp, pos1/float64(len(w.Impressions)))
	lens := []int{}
	for u := range w.Users {
		lens = append(lens, len(w.UserEvents(u)))
	}
	slices.Sort(lens)
	t.Logf("events per user: min %d median %d p90 %d max %d", lens[0], lens[len(lens)/2], lens[len(lens)*9/10], lens[len(lens)-1])
}
