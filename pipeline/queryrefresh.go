package pipeline

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/params"
)

// A retrieve source may compute its query embedding periodically rather than per request:
//
//	retrieve:
//	  sources:
//	    - {model: twotower, k: 500, query_refresh_hours: 24}
//
// reuses each user's two-tower query embedding until 24 hours of request time have passed since
// it was computed (twotower.Model.SetQueryRefresh). It is a serving option: Open applies it to
// the loaded model, training never does, so a file that differs from another only in it serves
// the other's bundle (cascade replay --config refreshed.yaml --models BUNDLE). The model's score
// as a ranker feature reuses the same embedding.

// maxRefreshHours bounds query_refresh_hours at ten years, far beyond any log's span.
const maxRefreshHours = 24 * 365 * 10

// refreshKinds are the model types whose sources take query_refresh_hours.
var refreshKinds = []string{"twotower"}

// queryRefresher is a model whose query embedding can be reused between a user's requests.
type queryRefresher interface {
	SetQueryRefresh(every time.Duration, users int) error
	QueryRefresh() (time.Duration, twotower.QueryRefreshStats)
}

// validateQueryRefresh checks the query_refresh_hours of source s at key at: a number of hours,
// on a model that has a query tower, and the same wherever the file names the model as a source
// (retrieve.sources and the variants' share one loaded model).
func (c *Config) validateQueryRefresh(at string, s SourceConfig) error {
	key := "query_refresh_hours"
	h := s.QueryRefreshHours
	if err := params.Check(params.Finite(h) && h >= 0 && h <= maxRefreshHours, key, h,
		fmt.Sprintf("be a number of hours in [0, %d] (0: every request)", maxRefreshHours)); err != nil {
		return c.located(at, err)
	}
	if typ := c.Models[s.Model].Type; h > 0 && !slices.Contains(refreshKinds, typ) {
		return c.located(at, params.Must(key, h, fmt.Sprintf("be 0: model %q (%s) has no query tower to refresh (%v have)", s.Model, typ, refreshKinds)))
	}
	if first, ok := c.queryRefreshHours()[s.Model]; ok && first != h {
		return c.located(at, params.Must(key, h, fmt.Sprintf("be %v, as the first source of model %q has it: one loaded model serves every source of it", first, s.Model)))
	}
	return nil
}

// queryRefreshHours gives each source model the query_refresh_hours of the first source naming
// it, in retrieve.sources then the variants' order.
func (c *Config) queryRefreshHours() map[string]float64 {
	out := map[string]float64{}
	add := func(sources []SourceConfig) {
		for _, s := range sources {
			if _, ok := out[s.Model]; !ok {
				out[s.Model] = s.QueryRefreshHours
			}
		}
	}
	add(c.Retrieve.Sources)
	for _, v := range c.Variants {
		add(v.Sources)
	}
	return out
}

// applyQueryRefresh sets the file's query refresh intervals on the loaded models, with caches
// sized for the bundle's users (every user of its data set, test-window users included) and a
// quarter more: a replay never evicts a user, so it gives the same figures for any number of
// workers.
func applyQueryRefresh(cfg *Config, models map[string]Model, users int) error {
	for name, h := range cfg.queryRefreshHours() {
		if h == 0 {
			continue
		}
		r, ok := models[name].(queryRefresher)
		if !ok {
			return fmt.Errorf("model %q (%T) has no query tower to refresh every %v hours", name, models[name], h)
		}
		if err := r.SetQueryRefresh(time.Duration(math.Round(h*float64(time.Hour))), users+users/4); err != nil {
			return fmt.Errorf("model %q: %w", name, err)
		}
	}
	return nil
}

// QueryRefresh reports, for each source model served with query_refresh_hours, its query
// embeddings computed and reused since Open: the query tower's work saved.
func (p *Pipeline) QueryRefresh() map[string]twotower.QueryRefreshStats {
	out := map[string]twotower.QueryRefreshStats{}
	ps := []*Pipeline{p}
	for _, v := range p.variants {
		ps = append(ps, v.p)
	}
	for _, q := range ps {
		for name, m := range q.models() {
			if r, ok := m.(queryRefresher); ok {
				if every, st := r.QueryRefresh(); every > 0 {
					out[name] = st
				}
			}
		}
	}
	return out
}
