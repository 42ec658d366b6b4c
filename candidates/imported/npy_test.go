package imported_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
)

// npyFixture is a catalog of items "a".."j" (all in the window) and users "x", "y", "z", with
// .npy files of 3-wide vectors for items "c", "a", "b", "zz" (absent) and users "y", "x".
type npyFixture struct {
	dir          string
	cat          imported.Catalog
	items, users vectors
}

func newNPYFixture(t testing.TB) *npyFixture {
	t.Helper()
	f := &npyFixture{dir: t.TempDir()}
	items, users := dataset.NewDict(), dataset.NewDict()
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		items.Add(id)
	}
	for _, id := range []string{"x", "y", "z"} {
		users.Add(id)
	}
	f.cat = imported.Catalog{Items: items, NumItems: 10, Users: users, NumUsers: 3}
	rng := rand.New(rand.NewPCG(3, 3))
	f.items = randomVectors(rng, []string{"c", "a", "b", "zz"}, 3)
	f.users = randomVectors(rng, []string{"y", "x"}, 3)
	writeIDs(t, f.path("item_ids.txt"), f.items.ids)
	writeIDs(t, f.path("user_ids.txt"), f.users.ids)
	return f
}

func (f *npyFixture) path(name string) string { return filepath.Join(f.dir, name) }

func (f *npyFixture) params() imported.Params {
	p := imported.DefaultParams()
	p.Format = imported.FormatNPY
	p.Items, p.ItemIDs = f.path("items.npy"), f.path("item_ids.txt")
	p.Users, p.UserIDs = f.path("users.npy"), f.path("user_ids.txt")
	return p
}

// Every way numpy may write the matrices reads the same vectors: float32 and float64 (npyio's
// writer), and by hand big-endian, Fortran order, the keys in another order, a version 2.0 header.
func TestNPYVariants(t *testing.T) {
	f := newNPYFixture(t)
	flat := func(v vectors) []float32 { return slices.Concat(v.vecs...) }
	colMajor := func(v vectors) []float32 {
		var out []float32
		for d := range 3 {
			for _, x := range v.vecs {
				out = append(out, x[d])
			}
		}
		return out
	}
	shape := func(v vectors) string { return "(" + strconv.Itoa(len(v.ids)) + ", 3)" }
	for _, tc := range []struct {
		name  string
		write func(path string, v vectors)
	}{
		{"float32", func(path string, v vectors) { writeNPY32(t, path, v.vecs) }},
		{"float64", func(path string, v vectors) { writeNPY64(t, path, v.vecs) }},
		{"big-endian float32", func(path string, v vectors) {
			writeFile(t, path, string(rawNPY("{'descr': '>f4', 'fortran_order': False, 'shape': "+shape(v)+", }", float32Bytes(binary.BigEndian, flat(v)...))))
		}},
		{"Fortran order", func(path string, v vectors) {
			writeFile(t, path, string(rawNPY("{'descr': '<f4', 'fortran_order': True, 'shape': "+shape(v)+", }", float32Bytes(binary.LittleEndian, colMajor(v)...))))
		}},
		{"keys reordered", func(path string, v vectors) {
			writeFile(t, path, string(rawNPY("{'shape': "+shape(v)+", 'fortran_order': False, 'descr': '<f4'}", float32Bytes(binary.LittleEndian, flat(v)...))))
		}},
		{"version 2.0", func(path string, v vectors) {
			b := rawNPY("{'descr': '<f4', 'fortran_order': False, 'shape': "+shape(v)+", }", float32Bytes(binary.LittleEndian, flat(v)...))
			// Version 2.0 has a 4-byte header length.
			v2 := append([]byte("\x93NUMPY\x02\x00"), binary.LittleEndian.AppendUint32(nil, uint32(binary.LittleEndian.Uint16(b[8:10])))...)
			writeFile(t, path, string(append(v2, b[10:]...)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.write(f.path("items.npy"), f.items)
			tc.write(f.path("users.npy"), f.users)
			m, err := imported.Train(context.Background(), f.params(), f.cat)
			if err != nil {
				t.Fatal(err)
			}
			want := imported.Report{Format: "npy", Factors: 3, FileItems: 4, Items: 3, ItemsSkipped: 1, CatalogItemsWithout: 7, FileUsers: 2, Users: 2}
			if m.Report() != want {
				t.Fatalf("report %+v, want %+v", m.Report(), want)
			}
			for i, id := range f.items.ids[:3] {
				dense, _ := f.cat.Items.Lookup(id)
				if got := m.ItemVector(dense); !slices.Equal(got, f.items.vecs[i]) {
					t.Fatalf("item %s: %v, want %v", id, got, f.items.vecs[i])
				}
			}
			for i, id := range f.users.ids {
				dense, _ := f.cat.Users.Lookup(id)
				if got := m.UserVector(dense); !slices.Equal(got, f.users.vecs[i]) {
					t.Fatalf("user %s: %v, want %v", id, got, f.users.vecs[i])
				}
			}
			if m.UserVector(2) != nil {
				t.Fatal("user z has a vector")
			}
		})
	}
}

// Users are optional: without them every user is folded in (by the mean, npy's default).
func TestNPYItemsOnly(t *testing.T) {
	f := newNPYFixture(t)
	writeNPY32(t, f.path("items.npy"), f.items.vecs)
	p := f.params()
	p.Users, p.UserIDs = "", ""
	m, err := imported.Train(context.Background(), p, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	if m.UserVector(0) != nil || m.Params().Fold != imported.FoldMean {
		t.Fatalf("user vector %v, fold %q", m.UserVector(0), m.Params().Fold)
	}
	got, ok := m.FoldIn([]int32{0, 2, 5}, nil, nil) // a, c, and f (no vector)
	want := make([]float64, 3)
	for d := range want {
		want[d] = (float64(f.items.lookup("a")[d]) + float64(f.items.lookup("c")[d])) / 2
	}
	if !ok {
		t.Fatal("no vector")
	}
	closeVec(t, "mean", got, want)
}
