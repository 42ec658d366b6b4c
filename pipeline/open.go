package pipeline

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
)

// Open loads the bundle in dir for cfg. When ds is not nil it must be the data set the bundle was
// trained on (same events and item IDs), since dense IDs are only meaningful against it; filter
// rules on attributes need it.
func Open(cfg *Config, dir string, ds *dataset.Dataset) (*Pipeline, error) {
	if err := cfg.notRatings("open bundle"); err != nil {
		return nil, err
	}
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if ds != nil {
		if got := describeDataset(ds); got.Fingerprint != man.Dataset.Fingerprint {
			return nil, fmt.Errorf("model bundle %s was trained on %s (%d events) but the data given is %s (%d events): train on this data first", dir, man.Dataset.Name, man.Dataset.Events, got.Name, got.Events)
		}
	}
	checked := func(e *ModelEntry, what string) (string, error) {
		path := filepath.Join(dir, e.Artifact)
		if sum, err := fileSHA256(path); err != nil {
			return "", fmt.Errorf("model bundle: %w", err)
		} else if sum != e.SHA256 {
			return "", fmt.Errorf("model bundle: %s (%s) does not match the checksum in manifest.json (replaced or damaged)", path, what)
		}
		return path, nil
	}
	models := map[string]Model{}
	need := []string{cfg.FallbackModel()}
	for _, s := range cfg.Retrieve.Sources {
		need = append(need, s.Model)
	}
	for _, v := range cfg.Variants {
		for _, s := range v.Sources {
			need = append(need, s.Model)
		}
	}
	if cfg.Features != nil {
		need = append(need, cfg.ModelNames()...) // every model's score is a feature
	}
	for _, name := range need {
		if _, ok := models[name]; ok {
			continue
		}
		e, ok := man.Models[name]
		if !ok {
			return nil, fmt.Errorf("model bundle %s has no model %q: retrain with this pipeline file", dir, name)
		}
		if mc, ok := cfg.Models[name]; ok && mc.Type != e.Type {
			return nil, fmt.Errorf("model bundle %s: model %q is a %s, the pipeline file says %s", dir, name, e.Type, mc.Type)
		}
		kind, ok := kinds[e.Type]
		if !ok {
			return nil, fmt.Errorf("model bundle %s: model %q has unknown type %q", dir, name, e.Type)
		}
		path, err := checked(e, "model "+name)
		if err != nil {
			return nil, err
		}
		if models[name], err = kind.load(path); err != nil {
			return nil, fmt.Errorf("model bundle: model %q: %w", name, err)
		}
	}
	if err := applyQueryRefresh(cfg, models, man.Dataset.Users); err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", dir, err)
	}
	var stats *features.Stats
	if cfg.Features != nil {
		if man.Features == nil {
			return nil, fmt.Errorf("model bundle %s has no feature statistics: retrain with this pipeline file", dir)
		}
		path, err := checked(&man.Features.ModelEntry, "feature statistics")
		if err != nil {
			return nil, err
		}
		if stats, err = features.Load(path); err != nil {
			return nil, fmt.Errorf("model bundle: %w", err)
		}
	}
	if man.RankerStack != nil || man.StackSelection != nil {
		// Validation chose which of the file's rankers run.
		if cfg, err = cfg.withRankers(man.RankerStack); err != nil {
			return nil, fmt.Errorf("model bundle %s: %w", dir, err)
		}
	}
	rankers := make([]Ranker, len(cfg.Rankers))
	for i, rc := range cfg.Rankers {
		e, ok := man.Rankers[rc.Name]
		if !ok || e.Type != rc.Type {
			return nil, fmt.Errorf("model bundle %s has no %s ranker %q: retrain with this pipeline file", dir, rc.Type, rc.Name)
		}
		path, err := checked(e, "ranker "+rc.Name)
		if err != nil {
			return nil, err
		}
		if rankers[i], err = rankerKinds[rc.Type].load(path); err != nil {
			return nil, fmt.Errorf("model bundle: ranker %q: %w", rc.Name, err)
		}
	}
	p, err := assemble(cfg, models, stats, rankers, ds, man.Split.TrainItems)
	if err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", dir, err)
	}
	p.manifest = man
	for i, v := range cfg.Variants {
		vcfg, err := cfg.forVariant(i)
		if err != nil {
			return nil, fmt.Errorf("model bundle %s: %w", dir, err)
		}
		var vrankers []Ranker
		for _, rc := range vcfg.Rankers {
			vrankers = append(vrankers, rankers[slices.IndexFunc(cfg.Rankers, func(r RankerConfig) bool { return r.Name == rc.Name })])
		}
		vp, err := assemble(vcfg, models, stats, vrankers, ds, man.Split.TrainItems)
		if err != nil {
			return nil, fmt.Errorf("model bundle %s: variant %s: %w", dir, v.Name, err)
		}
		vp.manifest = man
		p.variants = append(p.variants, variant{name: v.Name, p: vp})
	}
	return p, nil
}
