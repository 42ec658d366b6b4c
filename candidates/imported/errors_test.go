package imported_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
)

// Bad files are errors that name the parameter, the file and the field at fault — never a panic
// and never a silently wrong model.

// smallCatalog has items "0".."9" and users "0".."4".
func smallCatalog() imported.Catalog {
	items, users := dataset.NewDict(), dataset.NewDict()
	for _, id := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		items.Add(id)
	}
	for _, id := range []string{"0", "1", "2", "3", "4"} {
		users.Add(id)
	}
	return imported.Catalog{Items: items, NumItems: 10, Users: users, NumUsers: 5}
}

// validSpark writes a rank-4 Spark model over smallCatalog's IDs.
func validSpark(t *testing.T, dir string) {
	v := func(n int) vectors {
		var ids []string
		var vecs [][]float32
		for i := range n {
			ids = append(ids, string(rune('0'+i)))
			vecs = append(vecs, []float32{float32(i), 1, -1, 0.5})
		}
		return vectors{ids, vecs}
	}
	writeSparkModel(t, dir, 4, v(5), v(10))
}

// replaceItemParts swaps the item factor part files for one file written by write.
func replaceItemParts(t *testing.T, dir string, write func(path string)) string {
	parts, _ := filepath.Glob(filepath.Join(dir, "itemFactors", "*.parquet"))
	for _, p := range parts {
		os.Remove(p)
	}
	path := filepath.Join(dir, "itemFactors", "part-00000-bad-c000.snappy.parquet")
	write(path)
	return path
}

func ptr[T any](v T) *T { return &v }

func TestSparkErrors(t *testing.T) {
	type noFeatures struct {
		ID  int32     `parquet:"id"`
		Vec []float32 `parquet:"vec,list"`
	}
	type noID struct {
		Item     int32     `parquet:"item"`
		Features []float32 `parquet:"features,list"`
	}
	type stringID struct {
		ID       string    `parquet:"id"`
		Features []float32 `parquet:"features,list"`
	}
	type scalarFeatures struct {
		ID       int32   `parquet:"id"`
		Features float32 `parquet:"features"`
	}
	type intFeatures struct {
		ID       int32   `parquet:"id"`
		Features []int32 `parquet:"features,list"`
	}
	good := []float32{1, 2, 3, 4}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string) string // breaks the model; returns the file at fault
		param  string
		field  string // what the message must name
	}{
		{"missing features column", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []noFeatures{{1, good}}) })
		}, "path", "column features is missing"},
		{"missing id column", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []noID{{1, good}}) })
		}, "path", "column id is missing"},
		{"string id", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []stringID{{"a", good}}) })
		}, "path", "column id is"},
		{"features not a list", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []scalarFeatures{{1, 2}}) })
		}, "path", "column features is not array<float>"},
		{"integer features", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []intFeatures{{1, []int32{1, 2, 3, 4}}}) })
		}, "path", "column features is not array<float>"},
		{"rank mismatch", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) {
				writeParquet(t, p, []requiredRow{{1, good}, {2, good[:3]}})
			})
		}, "path", "row 1 (id 2): column features has 3 values, the model's rank is 4"},
		{"rank mismatch in metadata", func(t *testing.T, dir string) string {
			writeSparkMetadata(t, dir, `{"class":"org.apache.spark.ml.recommendation.ALSModel","rank":5}`)
			parts, _ := filepath.Glob(filepath.Join(dir, "itemFactors", "*.parquet"))
			return parts[0]
		}, "path", "the model's rank is 5"},
		{"NaN feature", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) {
				writeParquet(t, p, []requiredRow{{1, good}, {2, []float32{1, float32(math.NaN()), 3, 4}}})
			})
		}, "path", "row 1 (id 2): column features, element 1 is NaN"},
		{"null element", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) {
				writeParquet(t, p, []nullableElemRow{{3, []*float32{ptr[float32](1), nil, ptr[float32](2), ptr[float32](3)}}}, nullableSchema)
			})
		}, "path", "row 0 (id 3): column features has a null element"},
		{"null features", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []sparkRow{{ID: ptr[int32](3)}}) })
		}, "path", "row 0 (id 3): column features has 0 values"},
		{"null id", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []sparkRow{{ID: nil, Features: good}}) })
		}, "path", "row 0: column id is null"},
		{"duplicate id", func(t *testing.T, dir string) string {
			replaceItemParts(t, dir, func(p string) { writeParquet(t, p, []requiredRow{{1, good}, {7, good}, {1, good}}) })
			return filepath.Join(dir, "itemFactors")
		}, "path", "id 1 appears twice"},
		{"not Parquet", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) { writeFile(t, p, "PAR1 this is not a Parquet file PAR1") })
		}, "path", "not a readable Parquet file"},
		{"truncated Parquet", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) {
				writeParquet(t, p, []requiredRow{{1, good}, {2, good}})
				data, _ := os.ReadFile(p)
				os.WriteFile(p, data[:len(data)/2], 0o644)
			})
		}, "path", "not a readable Parquet file"},
		{"no part files", func(t *testing.T, dir string) string {
			return replaceItemParts(t, dir, func(p string) {})[:len(dir)+len("/itemFactors")]
		}, "path", "no Parquet part files"},
		{"no userFactors", func(t *testing.T, dir string) string {
			os.RemoveAll(filepath.Join(dir, "userFactors"))
			return filepath.Join(dir, "userFactors")
		}, "path", "missing factor table"},
		{"no metadata", func(t *testing.T, dir string) string {
			os.RemoveAll(filepath.Join(dir, "metadata"))
			return filepath.Join(dir, "metadata")
		}, "path", "no metadata/"},
		{"metadata without rank", func(t *testing.T, dir string) string {
			writeSparkMetadata(t, dir, `{"class":"org.apache.spark.ml.recommendation.ALSModel","sparkVersion":"3.5.1"}`)
			return filepath.Join(dir, "metadata", "part-00000")
		}, "path", "metadata field rank is missing"},
		{"metadata of another model", func(t *testing.T, dir string) string {
			writeSparkMetadata(t, dir, `{"class":"org.apache.spark.ml.classification.LogisticRegressionModel","rank":4}`)
			return filepath.Join(dir, "metadata", "part-00000")
		}, "path", "metadata field class"},
		{"metadata not JSON", func(t *testing.T, dir string) string {
			writeSparkMetadata(t, dir, `rank=4`)
			return filepath.Join(dir, "metadata", "part-00000")
		}, "path", "the metadata is not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			validSpark(t, dir)
			file := tc.damage(t, dir)
			p := imported.DefaultParams()
			p.Format, p.Path = imported.FormatSparkALS, dir
			checkFileError(t, p, smallCatalog(), tc.param, file, tc.field)
		})
	}
}

func TestSparkIDFileErrors(t *testing.T) {
	dir := t.TempDir()
	validSpark(t, dir)
	ids := filepath.Join(dir, "item_labels.txt")
	writeIDs(t, ids, []string{"0", "1", "2"}) // Spark's items go up to 9
	p := imported.DefaultParams()
	p.Format, p.Path, p.ItemIDs = imported.FormatSparkALS, dir, ids
	checkFileError(t, p, smallCatalog(), "item_ids", ids, "has 3 IDs, and "+filepath.Join(dir, "itemFactors")+" holds Spark id 3")
}

func TestNPYErrors(t *testing.T) {
	le := binary.LittleEndian
	six := float32Bytes(le, 1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		name   string
		items  []byte   // items.npy (3 rows expected by item_ids.txt "a b c")
		ids    []string // item_ids.txt; nil: a, b, c
		users  []byte   // users.npy; nil: none
		param  string
		field  string
		isFile bool // the error wraps fs.ErrNotExist
	}{
		{name: "int64 dtype", items: rawNPY("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", make([]byte, 48)),
			param: "items", field: "header field descr: dtype <i8 is not float32 or float64"},
		{name: "float16 dtype", items: rawNPY("{'descr': '<f2', 'fortran_order': False, 'shape': (3, 2), }", make([]byte, 12)),
			param: "items", field: "header field descr: dtype <f2"},
		{name: "structured dtype", items: rawNPY("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", make([]byte, 12)),
			param: "items", field: "header field descr"},
		{name: "1-D array", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six),
			param: "items", field: "header field shape: (6,) is not a 2-D matrix"},
		{name: "truncated data", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six[:20]),
			param: "items", field: "header field shape: (3, 2) of 4-byte values needs 24 bytes of data, the file holds 20"},
		{name: "huge shape", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (900000000000000, 2), }", six),
			param: "items", field: "header field shape: (900000000000000, 2)"},
		{name: "NaN", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", float32Bytes(le, 1, 2, 3, float32(math.NaN()), 5, 6)),
			param: "items", field: "row 1, column 1: NaN is not a finite float32"},
		{name: "float64 overflowing float32", items: rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }",
			binary.LittleEndian.AppendUint64(make([]byte, 16), math.Float64bits(1e300))),
			param: "items", field: "row 2, column 0: +Inf is not a finite float32"},
		{name: "bad magic", items: []byte("NUMPY? no"), param: "items", field: "magic"},
		{name: "missing shape", items: rawNPY("{'descr': '<f4', 'fortran_order': False, }", six),
			param: "items", field: "header field shape is missing"},
		{name: "header not a dict", items: rawNPY("descr=<f4", six), param: "items", field: "want a dictionary"},
		{name: "unterminated header", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2", six),
			param: "items", field: "header field shape"},
		{name: "ID file too short", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six), ids: []string{"a", "b"},
			param: "item_ids", field: "has 2 IDs, and items"},
		{name: "ID file too long", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six), ids: []string{"a", "b", "c", "d"},
			param: "item_ids", field: "has 4 IDs, and items"},
		{name: "repeated ID", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six), ids: []string{"a", "b", "a"},
			param: "item_ids", field: `line 3: ID "a" repeats line 1`},
		{name: "empty ID", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six), ids: []string{"a", "", "c"},
			param: "item_ids", field: "line 2: empty ID"},
		{name: "users of another width", items: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six),
			users: rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six),
			param: "users", field: "header field shape: 3 columns, and items"},
		{name: "missing items file", param: "items", field: "cannot open", isFile: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := imported.DefaultParams()
			p.Format = imported.FormatNPY
			p.Items, p.ItemIDs = filepath.Join(dir, "items.npy"), filepath.Join(dir, "item_ids.txt")
			if tc.items != nil {
				writeFile(t, p.Items, string(tc.items))
			}
			ids := tc.ids
			if ids == nil {
				ids = []string{"a", "b", "c"}
			}
			writeFile(t, p.ItemIDs, strings.Join(ids, "\n")+"\n")
			if tc.users != nil {
				p.Users, p.UserIDs = filepath.Join(dir, "users.npy"), filepath.Join(dir, "user_ids.txt")
				writeFile(t, p.Users, string(tc.users))
				writeIDs(t, p.UserIDs, []string{"x", "y"})
			}
			file := map[string]string{"items": p.Items, "item_ids": p.ItemIDs, "users": p.Users}[tc.param]
			err := checkFileError(t, p, npyCatalog(), tc.param, file, tc.field)
			if tc.isFile && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%v does not wrap fs.ErrNotExist", err)
			}
		})
	}
}

func npyCatalog() imported.Catalog {
	items, users := dataset.NewDict(), dataset.NewDict()
	items.Add("a")
	users.Add("x")
	return imported.Catalog{Items: items, NumItems: 1, Users: users, NumUsers: 1}
}

// No item of the files in the catalog is a mapping mistake, not a model.
func TestNoItemInCatalog(t *testing.T) {
	dir := t.TempDir()
	p := imported.DefaultParams()
	p.Format, p.Items, p.ItemIDs = imported.FormatNPY, filepath.Join(dir, "items.npy"), filepath.Join(dir, "ids.txt")
	writeNPY32(t, p.Items, [][]float32{{1, 2}, {3, 4}})
	writeIDs(t, p.ItemIDs, []string{"17", "18"})
	checkFileError(t, p, npyCatalog(), "items", p.Items, `none of its 2 item IDs is in the catalog of 1 items (first: "17"; catalog's first: "a")`)
}

// checkFileError trains with p and checks the error is a *imported.FileError naming param, file
// and a message containing field.
func checkFileError(t *testing.T, p imported.Params, cat imported.Catalog, param, file, field string) error {
	t.Helper()
	m, err := imported.Train(context.Background(), p, cat)
	var fe *imported.FileError
	switch {
	case err == nil:
		t.Fatalf("trained %+v, want an error", m.Report())
	case !errors.As(err, &fe):
		t.Fatalf("error %T %v is not a *imported.FileError", err, err)
	case fe.Param != param || fe.File != file || !strings.Contains(fe.Msg, field):
		t.Fatalf("error %q\n param %q file %q\n want param %q file %q and a message with %q", err, fe.Param, fe.File, param, file, field)
	}
	return err
}

// A damaged part file (any byte flipped) is an error or, if the damage happens to decode, a model
// of finite vectors — never a panic.
func TestDamagedPartFile(t *testing.T) {
	dir := t.TempDir()
	validSpark(t, dir)
	var rows []requiredRow
	for i := range 10 {
		rows = append(rows, requiredRow{int32(i), []float32{float32(i), 1, 2, 3}})
	}
	path := replaceItemParts(t, dir, func(p string) { writeParquet(t, p, rows) })
	good, _ := os.ReadFile(path)
	p := imported.DefaultParams()
	p.Format, p.Path = imported.FormatSparkALS, dir
	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for range 300 {
		bad := slices.Clone(good)
		for range 1 + rng.IntN(3) {
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
		}
		os.WriteFile(path, bad, 0o644)
		m, err := imported.Train(context.Background(), p, smallCatalog())
		if err != nil {
			failed++
			var fe *imported.FileError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("damage gave %v, not a FileError naming %s", err, path)
			}
			continue
		}
		for _, v := range m.ItemFactors() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("a damaged file gave non-finite factors")
			}
		}
	}
	t.Logf("%d of 300 damaged files refused", failed)
}
