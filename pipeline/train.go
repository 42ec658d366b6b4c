package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/replay"
)

// TrainEnv is what a model kind's trainer sees: the events of one training window and the
// catalog they define.
type TrainEnv struct {
	Events   []dataset.Event // time-ordered, all inside the window
	NumUsers int             // users [0, NumUsers) occur in Events
	NumItems int             // the catalog [0, NumItems)
	Dataset  *dataset.Dataset
	Logger   *slog.Logger
	Progress progress.Options
	Workers  int
}

// Model is a trained model as the pipeline holds it.
type Model interface {
	candidates.Source
	// Save writes the model's artifact to path and returns its SHA-256.
	Save(path string) (string, error)
}

// Options tune Train.
type Options struct {
	Logger   *slog.Logger
	Progress progress.Options
	// Workers bounds parallelism of training and validation replay; 0 means GOMAXPROCS.
	Workers int
	// RankingData, when set, receives the ranker training set (all requests, all proposed
	// candidates) right after it is built, e.g. to export it for LightGBM.
	RankingData func(*ranker.Set) error
	// OnlyRankingData stops Train once the ranking set is built: no refit, no rankers, no choice
	// of the ranking stack (a ranking_data grid's first values are used).
	OnlyRankingData bool
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// Train trains every model of cfg on ds and writes the bundle (artifacts + manifest.json) to
// outDir. Models with parameter grids are tuned first: each combination is trained on the
// validation split's train part and replayed (replay-v1) on its test part; the best by
// cfg.Tuning.Metric is refit on the whole train split. The test split is never seen.
func Train(ctx context.Context, cfg *Config, ds *dataset.Dataset, outDir string, opt Options) (*Manifest, error) {
	log := opt.logger()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	valid := dataset.TemporalSplit(split.Train, cfg.Split.ValidationFraction)
	if len(valid.Train) == 0 || len(valid.Test) == 0 || len(split.Test) == 0 {
		return nil, fmt.Errorf("train: %s has too few distinct timestamps to split (train %d, validation %d, test %d events)", ds.Name, len(valid.Train), len(valid.Test), len(split.Test))
	}
	man := &Manifest{
		Format:   ManifestFormat,
		Pipeline: cfg.Name,
		Config:   cfg.source,
		Created:  time.Now().UTC().Format(time.RFC3339),
		Dataset:  describeDataset(ds),
		Split: SplitInfo{
			Cut: split.Cut, TrainEvents: len(split.Train), TestEvents: len(split.Test), TrainItems: split.TrainItems, TrainUsers: split.TrainUsers,
			ValidationCut: valid.Cut, ValidationTrainEvents: len(valid.Train), ValidationEvents: len(valid.Test),
		},
		Models: map[string]*ModelEntry{},
	}
	envFor := func(s dataset.Split) TrainEnv {
		return TrainEnv{Events: s.Train, NumUsers: s.TrainUsers, NumItems: s.TrainItems, Dataset: ds, Logger: log, Progress: opt.Progress, Workers: opt.Workers}
	}
	validEnv, fullEnv := envFor(valid), envFor(split)

	// The validation fallback answers steps with no known history item, as replay-v1 asks.
	validFallback, err := kinds["popularity"].train(ctx, validEnv, kinds["popularity"].newParams())
	if err != nil {
		return nil, err
	}
	// validModels are the first-stage models trained on the validation split's train part: the
	// candidate and feature stages that ranker training data is built with.
	validModels := map[string]Model{}
	chosenParams := map[string]any{}
	for _, name := range cfg.ModelNames() {
		mc := cfg.Models[name]
		kind := kinds[mc.Type]
		trials, err := cfg.Grid(name)
		if err != nil {
			return nil, err
		}
		entry := &ModelEntry{Type: mc.Type}
		best := 0
		if len(trials) > 1 {
			log.Info("tuning on the validation split", "model", name, "type", mc.Type, "combinations", len(trials), "metric", cfg.Tuning.Metric)
			bestScore := -1.0
			trainedBy := map[string]Model{} // by the combination of non-serving parameters
			for i, tr := range trials {
				start := time.Now()
				key := tr.labelWithout(kind.serving)
				m, ok := trainedBy[key]
				if !ok {
					if m, err = kind.train(ctx, validEnv, tr.Params); err != nil {
						return nil, fmt.Errorf("model %s (%s): %w", name, tr.Label(), err)
					}
					trainedBy[key] = m
				}
				if kind.serve != nil {
					if m, err = kind.serve(m, tr.Params); err != nil {
						return nil, fmt.Errorf("model %s (%s): %w", name, tr.Label(), err)
					}
				}
				tp, err := trialPipeline(name, m, validFallback, 100, valid.TrainItems)
				if err != nil {
					return nil, fmt.Errorf("model %s (%s): %w", name, tr.Label(), err)
				}
				rep, err := replay.Run(ctx, valid, tp.Replay(), replay.Options{
					Dataset: ds.Name + "/validation", ItemIDs: ds.Items.IDs(),
					Workers: opt.Workers, Progress: progress.Options{Disabled: true},
				})
				if err != nil {
					return nil, fmt.Errorf("model %s (%s): validation replay: %w", name, tr.Label(), err)
				}
				score := rep.Metrics[cfg.Tuning.Metric]
				entry.Trials = append(entry.Trials, TrialResult{Params: tr.Values, Metrics: pick(rep.Metrics, "ndcg@10", "hr@10", "hr@100", cfg.Tuning.Metric), Seconds: time.Since(start).Seconds()})
				log.Info("trial", "model", name, "params", tr.Label(), cfg.Tuning.Metric, fmt.Sprintf("%.5f", score))
				if score > bestScore {
					best, bestScore = i, score
					validModels[name] = m
				}
			}
			log.Info("chosen", "model", name, "params", trials[best].Label(), cfg.Tuning.Metric, fmt.Sprintf("%.5f", bestScore))
		}
		if _, ok := validModels[name]; !ok && (cfg.Features != nil || len(cfg.Rankers) > 0) {
			if validModels[name], err = kind.train(ctx, validEnv, trials[best].Params); err != nil {
				return nil, fmt.Errorf("model %s: %w", name, err)
			}
		}
		entry.Chosen = trials[best].Values
		entry.Params = trials[best].Params
		chosenParams[name] = trials[best].Params
		if opt.OnlyRankingData {
			continue
		}
		start := time.Now()
		m, err := kind.train(ctx, fullEnv, trials[best].Params)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", name, err)
		}
		entry.TrainSeconds = time.Since(start).Seconds()
		if r, ok := m.(interface{ Info() any }); ok {
			entry.Info = r.Info()
		}
		if err := saveModel(outDir, name, mc.Type, m, entry); err != nil {
			return nil, err
		}
		entry.DataSpan = span(split.Train)
		man.Models[name] = entry
		log.Info("trained", "model", name, "type", mc.Type, "seconds", fmt.Sprintf("%.2f", entry.TrainSeconds))
	}
	if cfg.FallbackModel() == fallbackName && !opt.OnlyRankingData {
		m, err := kinds["popularity"].train(ctx, fullEnv, kinds["popularity"].newParams())
		if err != nil {
			return nil, err
		}
		entry := &ModelEntry{Type: "popularity", DataSpan: span(split.Train)}
		if err := saveModel(outDir, fallbackName, "popularity", m, entry); err != nil {
			return nil, err
		}
		man.Models[fallbackName] = entry
	}
	if cfg.FallbackModel() == fallbackName {
		validModels[fallbackName] = validFallback
	}
	if cfg.Features != nil {
		if err := trainRankingStages(ctx, cfg, ds, split, valid, validModels, chosenParams, outDir, man, opt); err != nil {
			return nil, err
		}
	}
	if err := man.write(outDir); err != nil {
		return nil, err
	}
	return man, nil
}

// fallbackName is the bundle name of the popularity model trained when the file names no fallback.
const fallbackName = "_fallback"

func saveModel(dir, name, typ string, m Model, e *ModelEntry) error {
	e.Artifact = name + "." + typ
	path := filepath.Join(dir, e.Artifact)
	sum, err := m.Save(path)
	if err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	e.SHA256 = sum
	return nil
}

func pick(m map[string]float64, keys ...string) map[string]float64 {
	out := map[string]float64{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func span(events []dataset.Event) DataSpan {
	if len(events) == 0 {
		return DataSpan{}
	}
	return DataSpan{From: events[0].Time, To: events[len(events)-1].Time, Events: len(events)}
}

// describeDataset fingerprints ds so that a bundle refuses to be replayed on other data.
func describeDataset(ds *dataset.Dataset) DatasetInfo {
	h := sha256.New()
	var buf [16]byte
	for _, e := range ds.Events {
		binary.LittleEndian.PutUint32(buf[0:], uint32(e.User))
		binary.LittleEndian.PutUint32(buf[4:], uint32(e.Item))
		binary.LittleEndian.PutUint64(buf[8:], uint64(e.Time))
		h.Write(buf[:])
	}
	for _, id := range ds.Items.IDs() {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return DatasetInfo{Name: ds.Name, Format: ds.Format, Events: len(ds.Events), Users: ds.NumUsers(), Items: ds.NumItems(), Fingerprint: fmt.Sprintf("%x", h.Sum(nil))}
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", sha256.Sum256(data)), nil
}

// ManifestFormat versions manifest.json.
const ManifestFormat = "cascade-bundle-v1"

// Manifest describes a trained bundle (manifest.json).
type Manifest struct {
	Format   string                 `json:"format"`
	Pipeline string                 `json:"pipeline"`
	Config   string                 `json:"config"`
	Created  string                 `json:"created"`
	Dataset  DatasetInfo            `json:"dataset"`
	Split    SplitInfo              `json:"split"`
	Models   map[string]*ModelEntry `json:"models"`
	// Features is the feature stage's statistics (absent without a feature stage).
	Features *FeaturesEntry `json:"features,omitempty"`
	// Rankers are the ranking stages by name.
	Rankers map[string]*ModelEntry `json:"rankers,omitempty"`
	// RankerStack names the rankers that run, in order: the file's, or those validation chose
	// (StackSelection says how).
	RankerStack    []string        `json:"ranker_stack,omitempty"`
	StackSelection *StackSelection `json:"stack_selection,omitempty"`
	// RankingData describes the requests the rankers were trained on.
	RankingData *RankingDataInfo `json:"ranking_data,omitempty"`
}

// FeaturesEntry is the feature stage in the bundle.
type FeaturesEntry struct {
	ModelEntry
	Schema []string `json:"schema"`
}

// RankingDataInfo counts the ranker training requests and the windows they came from.
type RankingDataInfo struct {
	HorizonDays  float64        `json:"horizon_days"`
	MaxPerUser   int            `json:"max_requests_per_user"`
	Events       int            `json:"validation_events"`
	Requests     int            `json:"requests"`
	WithTarget   int            `json:"with_target"`
	WithPositive int            `json:"with_positive"`
	PerRanker    map[string]int `json:"per_ranker_requests"`
	Seconds      float64        `json:"seconds"`
}

// DatasetInfo identifies the data a bundle was trained on.
type DatasetInfo struct {
	Name        string `json:"name"`
	Format      string `json:"format"`
	Events      int    `json:"events"`
	Users       int    `json:"users"`
	Items       int    `json:"items"`
	Fingerprint string `json:"fingerprint"`
}

// SplitInfo records the temporal windows used.
type SplitInfo struct {
	Cut                   int64 `json:"cut"`
	TrainEvents           int   `json:"train_events"`
	TestEvents            int   `json:"test_events"`
	TrainItems            int   `json:"train_items"`
	TrainUsers            int   `json:"train_users"`
	ValidationCut         int64 `json:"validation_cut"`
	ValidationTrainEvents int   `json:"validation_train_events"`
	ValidationEvents      int   `json:"validation_events"`
}

// ModelEntry is one model of the bundle.
type ModelEntry struct {
	Type         string         `json:"type"`
	Chosen       map[string]any `json:"params"`
	Params       any            `json:"resolved_params,omitempty"`
	Trials       []TrialResult  `json:"trials,omitempty"`
	TrainSeconds float64        `json:"train_seconds"`
	DataSpan     DataSpan       `json:"data_span"`
	Info         any            `json:"info,omitempty"` // model-specific build facts, e.g. the ANN index report
	Artifact     string         `json:"artifact"`
	SHA256       string         `json:"sha256"`
}

// TrialResult is one grid combination's validation outcome.
type TrialResult struct {
	Params  map[string]any     `json:"params"`
	Metrics map[string]float64 `json:"validation"`
	Seconds float64            `json:"seconds"`
}

// DataSpan is the time window of a model's training events.
type DataSpan struct {
	From   int64 `json:"from"`
	To     int64 `json:"to"`
	Events int   `json:"events"`
}

func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644)
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model bundle: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", path, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("model bundle %s: format %q, want %q", path, m.Format, ManifestFormat)
	}
	return &m, nil
}
