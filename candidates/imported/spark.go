package imported

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A Spark MLlib ALSModel.save(path) directory:
//
//	path/metadata/part-00000        one JSON line: {"class": "org.apache.spark.ml.recommendation.ALSModel", ..., "rank": 10}
//	path/userFactors/part-*.parquet the user factors (id int, features array<float>)
//	path/itemFactors/part-*.parquet the item factors
//
// plus _SUCCESS markers and .crc files, which are ignored.

// sparkMetadata is what Cascade reads of the metadata line.
type sparkMetadata struct {
	Class        string `json:"class"`
	SparkVersion string `json:"sparkVersion"`
	Rank         *int   `json:"rank"`
}

// readSpark reads the user and item factor tables of a saved ALSModel and maps Spark's integer
// IDs to external IDs: through the item_ids/user_ids files when given (line n names Spark's
// integer n), else as the integer written in decimal.
func readSpark(p Params) (items, users *factorTable, err error) {
	meta, err := readSparkMetadata(p.Path)
	if err != nil {
		return nil, nil, err
	}
	items = &factorTable{param: "path", file: filepath.Join(p.Path, "itemFactors"), k: *meta.Rank}
	users = &factorTable{param: "path", file: filepath.Join(p.Path, "userFactors"), k: *meta.Rank}
	for _, t := range []*factorTable{items, users} {
		parts, err := parquetParts(t.file)
		if err != nil {
			return nil, nil, err
		}
		for _, part := range parts {
			if err := readFactorPart(t, part); err != nil {
				return nil, nil, err
			}
		}
		if err := checkUniqueIDs(t); err != nil {
			return nil, nil, err
		}
	}
	for _, side := range []struct {
		t     *factorTable
		param string
		file  string
	}{{items, "item_ids", p.ItemIDs}, {users, "user_ids", p.UserIDs}} {
		if err := sparkKeys(side.t, side.param, side.file); err != nil {
			return nil, nil, err
		}
	}
	return items, users, nil
}

func readSparkMetadata(dir string) (*sparkMetadata, error) {
	mdir := filepath.Join(dir, "metadata")
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return nil, fileErr("path", mdir, err, "not a Spark ALSModel.save directory (no metadata/)")
	}
	var file string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "part-") && e.Type().IsRegular() {
			file = filepath.Join(mdir, e.Name())
			break // os.ReadDir sorts: part-00000 first
		}
	}
	if file == "" {
		return nil, fileErr("path", mdir, nil, "no part-00000 file with the model's metadata")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fileErr("path", file, err, "cannot open the metadata")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	if !sc.Scan() {
		return nil, fileErr("path", file, sc.Err(), "the metadata file is empty")
	}
	var meta sparkMetadata
	if err := json.Unmarshal(sc.Bytes(), &meta); err != nil {
		return nil, fileErr("path", file, err, "the metadata is not JSON")
	}
	if !strings.HasSuffix(meta.Class, ".ALSModel") {
		return nil, fileErr("path", file, nil, "metadata field class is %q, not org.apache.spark.ml.recommendation.ALSModel", meta.Class)
	}
	if meta.Rank == nil {
		return nil, fileErr("path", file, nil, "metadata field rank is missing")
	}
	if r := *meta.Rank; r < 1 || r > maxFactors {
		return nil, fileErr("path", file, nil, "metadata field rank is %d, want 1 to %d", r, maxFactors)
	}
	return &meta, nil
}

// parquetParts lists the Parquet part files of a Spark output directory, sorted.
func parquetParts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileErr("path", dir, err, "missing factor table (ALSModel.save writes userFactors/ and itemFactors/)")
	}
	var parts []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "_") || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".parquet") || e.IsDir() {
			continue
		}
		parts = append(parts, filepath.Join(dir, n))
	}
	if len(parts) == 0 {
		return nil, fileErr("path", dir, nil, "no Parquet part files (*.parquet)")
	}
	sort.Strings(parts)
	return parts, nil
}

func checkUniqueIDs(t *factorTable) error {
	seen := make(map[int64]int, len(t.ids))
	for row, id := range t.ids {
		if first, dup := seen[id]; dup {
			return fileErr(t.param, t.file, nil, "id %d appears twice (rows %d and %d of the part files)", id, first, row)
		}
		seen[id] = row
	}
	return nil
}

// sparkKeys sets t.keys from Spark's integer IDs: line id of the IDs file when one is given,
// else the decimal integer.
func sparkKeys(t *factorTable, param, file string) error {
	t.keys = make([]string, len(t.ids))
	if file == "" {
		for i, id := range t.ids {
			t.keys[i] = strconv.FormatInt(id, 10)
		}
		return nil
	}
	names, err := readIDs(param, file)
	if err != nil {
		return err
	}
	for i, id := range t.ids {
		if id < 0 || id >= int64(len(names)) {
			return fileErr(param, file, nil, "has %d IDs, and %s holds Spark id %d (line n names Spark's integer n, counting from 0)", len(names), t.file, id)
		}
		t.keys[i] = names[id]
	}
	return nil
}
