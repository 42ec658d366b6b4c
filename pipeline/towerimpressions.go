package pipeline

import (
	"fmt"
	"time"

	"github.com/cascade-rec/cascade/candidates/twotower"
)

// towerLearnsFromImpressions reports whether a two-tower model of cfg (or a trial of its grid)
// sets examples: impressions, so that Train reads the impressions log (the one ranking_data's
// source impressions reads) even when the rankers learn from candidates.
func towerLearnsFromImpressions(cfg *Config) bool {
	for name, m := range cfg.Models {
		if m.Type != "twotower" {
			continue
		}
		trials, err := cfg.Grid(name)
		if err != nil {
			continue // the file was validated before Train; Train reports its grid's error itself
		}
		for _, t := range trials {
			if p, ok := t.Params.(*twotower.Params); ok && p.Examples == twotower.ExamplesImpressions {
				return true
			}
		}
	}
	return false
}

// towerImpressions are the log's slates a two-tower trained on env may learn from: those served
// by the end of env's window (its last event), so that no slate of a later (validation or test)
// period is learnt from. None is an error that says so.
func towerImpressions(env TrainEnv) ([]twotower.Impression, error) {
	if len(env.Events) == 0 {
		return nil, fmt.Errorf("examples impressions: no events in the window")
	}
	end := env.Events[len(env.Events)-1].Time
	var out []twotower.Impression
	for _, imp := range env.Impressions {
		if imp.Query.Time > end {
			continue
		}
		ti := twotower.Impression{User: imp.Query.User, Time: imp.Query.Time}
		for _, s := range imp.Shown {
			ti.Shown = append(ti.Shown, s.Item)
			ti.Clicked = append(ti.Clicked, s.Clicked)
		}
		out = append(out, ti)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("examples impressions: none of the log's %d slates was served by the window's end (%s)",
			len(env.Impressions), time.Unix(end, 0).UTC().Format(time.RFC3339))
	}
	return out, nil
}
