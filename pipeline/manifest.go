package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/ranker"
)

// describeDataset fingerprints ds so that a bundle refuses to be replayed on other data.
func describeDataset(ds *dataset.Dataset) DatasetInfo {
	h := sha256.New()
	hashEvents(h, ds.Events, false)
	hashTypes(h, ds, ds.Events)
	for _, id := range ds.Items.IDs() {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return DatasetInfo{Name: ds.Name, Format: ds.Format, Events: len(ds.Events), Users: ds.NumUsers(), Items: ds.NumItems(), Fingerprint: fmt.Sprintf("%x", h.Sum(nil))}
}

// fileSHA256 hashes a bundle file. Only regular files are read: a FIFO or device planted in a
// bundle would block a reload forever.
func fileSHA256(path string) (string, error) {
	data, err := readRegular(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", sha256.Sum256(data)), nil
}

// readRegular reads path if it is a regular file (symlinks followed).
func readRegular(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return os.ReadFile(path)
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
	// Costs are the training stages in order, with the time and memory each used.
	Costs []StageCost `json:"costs,omitempty"`

	checksum string // of manifest.json as read
}

// Checksum is the SHA-256 of manifest.json as ReadManifest read it ("" for one not read from a
// file): it names the bundle, since the manifest holds every artifact's checksum.
func (m *Manifest) Checksum() string { return m.checksum }

// FeaturesEntry is the feature stage in the bundle.
type FeaturesEntry struct {
	ModelEntry
	Schema []string `json:"schema"`
}

// RankingDataInfo counts the ranker training requests and the windows they came from.
type RankingDataInfo struct {
	Source       string         `json:"source,omitempty"`
	HorizonDays  float64        `json:"horizon_days"`
	MaxPerUser   int            `json:"max_requests_per_user"`
	Events       int            `json:"validation_events"`
	Requests     int            `json:"requests"`
	WithTarget   int            `json:"with_target"`
	WithPositive int            `json:"with_positive"`
	PerRanker    map[string]int `json:"per_ranker_requests"`
	Seconds      float64        `json:"seconds"`
	// Impressions is what source impressions joined.
	Impressions *ranker.ImpressionStats `json:"impressions,omitempty"`
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
	Type   string         `json:"type"`
	Chosen map[string]any `json:"params"`
	Params any            `json:"resolved_params,omitempty"`
	Trials []TrialResult  `json:"trials,omitempty"`
	// Strategy is set when the grid was searched by successive halving; TuningBudget counts the
	// budget units (the kind's resource: iterations, epochs) trained while tuning, by any strategy.
	Strategy     string   `json:"strategy,omitempty"`
	TuningBudget int      `json:"tuning_budget,omitempty"`
	TrainSeconds float64  `json:"train_seconds"`
	Cached       bool     `json:"cached,omitempty"` // loaded from the model cache, not trained
	DataSpan     DataSpan `json:"data_span"`
	Info         any      `json:"info,omitempty"` // model-specific build facts, e.g. the ANN index report
	Artifact     string   `json:"artifact"`
	SHA256       string   `json:"sha256"`
}

// TrialResult is one grid combination's validation outcome.
type TrialResult struct {
	Params  map[string]any     `json:"params"`
	Metrics map[string]float64 `json:"validation"`
	Seconds float64            `json:"seconds"`
	Cached  bool               `json:"cached,omitempty"`
	// Rung (1-based), Budget and Steps are halving's: the round, the resource value trained with
	// and the validation steps replayed when a rung replays a sample of them.
	Rung   int `json:"rung,omitempty"`
	Budget int `json:"budget,omitempty"`
	Steps  int `json:"validation_steps,omitempty"`
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
	data, err := readRegular(path)
	if err != nil {
		return nil, fmt.Errorf("model bundle: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", path, err)
	}
	m.checksum = fmt.Sprintf("%x", sha256.Sum256(data))
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("model bundle %s: format %q, want %q", path, m.Format, ManifestFormat)
	}
	return &m, nil
}

// hashTypes writes the event types of ds and each event's type to h; nothing for data without
// types, so that their fingerprints (and bundles) stay what they were.
func hashTypes(h hash.Hash, ds *dataset.Dataset, events []dataset.Event) {
	if ds.EventTypes == nil {
		return
	}
	for _, name := range ds.EventTypes.IDs() {
		h.Write([]byte(name))
		h.Write([]byte{0})
	}
	types := make([]byte, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	h.Write(types)
}

// hashEvents writes each event's user, item and time (and rating when withValues) to h. The data
// set fingerprint leaves ratings out (bundles keep the fingerprint they were written with); the
// model cache's window fingerprint includes them (explicit ALS reads them).
func hashEvents(h hash.Hash, events []dataset.Event, withValues bool) {
	var buf [20]byte
	n := 16
	if withValues {
		n = 20
	}
	for _, e := range events {
		binary.LittleEndian.PutUint32(buf[0:], uint32(e.User))
		binary.LittleEndian.PutUint32(buf[4:], uint32(e.Item))
		binary.LittleEndian.PutUint64(buf[8:], uint64(e.Time))
		binary.LittleEndian.PutUint32(buf[16:], math.Float32bits(e.Value))
		h.Write(buf[:n])
	}
}
