package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/cascade-rec/cascade/dataset"
)

const ltrPipeline = `name: ltr
models:
  ials: {type: ials, params: {factors: 4, iterations: 3}}
  pop: {type: popularity}
retrieve:
  sources: [{model: ials, k: 20}, {model: pop, k: 10}]
features: {}
ranking_data: {max_requests: 150, negatives: 8, random_negatives: 0.5}
final: {k: 10}
`

// The Parquet export holds exactly the rows of the LightGBM export (the oracle): the same
// requests in the same order, labels and features bit for bit, query groups as in the .query
// files, plus the external IDs and request times.
func TestExportLTRParquet(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ltr.yaml")
	if err := os.WriteFile(cfg, []byte(ltrPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	world := filepath.Join("..", "..", "testdata", "world")
	text, pq := filepath.Join(dir, "text"), filepath.Join(dir, "parquet")
	if _, errs, code := runCLI(t, "export-ltr", "--config", cfg, "--data", world, "--out", text); code != 0 {
		t.Fatalf("export-ltr (lightgbm): %s", errs)
	}
	out, errs, code := runCLI(t, "export-ltr", "--config", cfg, "--data", world, "--out", pq, "--format", "parquet")
	if code != 0 {
		t.Fatalf("export-ltr --format parquet: %s", errs)
	}
	if !strings.Contains(out, "array_to_vector") {
		t.Errorf("no Spark hint in %q", out)
	}
	names := readLines(t, filepath.Join(pq, "features.txt"))
	if !slices.Equal(names, readLines(t, filepath.Join(text, "features.txt"))) {
		t.Fatal("the two exports name different features")
	}
	ds, err := dataset.Load(world, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"train", "valid"} {
		rows, meta := readLTRParquet(t, filepath.Join(pq, part+".parquet"))
		var metaNames []string
		if err := json.Unmarshal([]byte(meta), &metaNames); err != nil || !slices.Equal(metaNames, names) {
			t.Fatalf("%s: feature names in the metadata %q, features.txt %v", part, meta, names)
		}
		labels, feats := readLightGBM(t, filepath.Join(text, part+".tsv"))
		groups := readLines(t, filepath.Join(text, part+".tsv.query"))
		if len(rows) != len(labels) || len(rows) == 0 {
			t.Fatalf("%s: %d Parquet rows, %d LightGBM rows", part, len(rows), len(labels))
		}
		// Query groups: query_id counts 0, 1, … and the group sizes are the .query file's.
		var sizes []string
		for i, r := range rows {
			if i == 0 || r.QueryID != rows[i-1].QueryID {
				if r.QueryID != int64(len(sizes)) {
					t.Fatalf("%s: row %d starts query %d after %d queries", part, i, r.QueryID, len(sizes))
				}
				sizes = append(sizes, "0")
			}
			n, _ := strconv.Atoi(sizes[len(sizes)-1])
			sizes[len(sizes)-1] = strconv.Itoa(n + 1)
		}
		if !slices.Equal(sizes, groups) {
			t.Fatalf("%s: group sizes %v, .query file %v", part, sizes[:min(5, len(sizes))], groups[:min(5, len(groups))])
		}
		for i, r := range rows {
			if r.Label != labels[i] || !sameFloats(r.Features, feats[i]) {
				t.Fatalf("%s row %d: label %v features %v, LightGBM file %v %v", part, i, r.Label, r.Features, labels[i], feats[i])
			}
			if _, ok := ds.Items.Lookup(r.ItemID); !ok {
				t.Fatalf("%s row %d: item %q is not in the data set", part, i, r.ItemID)
			}
			if _, ok := ds.Users.Lookup(r.UserID); !ok || r.Time < ds.Events[0].Time || r.Time > ds.Events[len(ds.Events)-1].Time {
				t.Fatalf("%s row %d: user %q at %d", part, i, r.UserID, r.Time)
			}
		}
	}
	if _, errs, code := runCLI(t, "export-ltr", "--config", cfg, "--data", world, "--out", pq, "--format", "csv"); code == 0 || !strings.Contains(errs, `"lightgbm","parquet"`) {
		t.Fatalf("--format csv: exit %d, %s", code, errs)
	}
}

type ltrReadRow struct {
	QueryID  int64     `parquet:"query_id"`
	Label    float32   `parquet:"label"`
	Features []float32 `parquet:"features,list"`
	ItemID   string    `parquet:"item_id"`
	UserID   string    `parquet:"user_id"`
	Time     int64     `parquet:"time"`
}

func readLTRParquet(t *testing.T, path string) ([]ltrReadRow, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := pf.Lookup("cascade.feature_names")
	rows, err := parquet.Read[ltrReadRow](f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return rows, meta
}

// readLightGBM parses a LightGBM data file: label, then tab-separated features ("nan" = NaN).
func readLightGBM(t *testing.T, path string) (labels []float32, feats [][]float32) {
	t.Helper()
	for _, line := range readLines(t, path) {
		var row []float32
		for _, field := range strings.Split(line, "\t") {
			v := float32(math.NaN())
			if field != "nan" {
				x, err := strconv.ParseFloat(field, 32)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				v = float32(x)
			}
			row = append(row, v)
		}
		labels, feats = append(labels, row[0]), append(feats, row[1:])
	}
	return labels, feats
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func sameFloats(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || (x != x && y != y) })
}
