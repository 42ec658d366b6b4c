package dataset

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles creates a data set directory from name → content.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadGeneric(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"events.csv": "user_id,item_id,timestamp,value\nu2,b,200,4\nu1,a,100,5\nu1,c,200,3\nu3,b,2024-01-01T00:00:00Z,1\n",
		"items.csv":  "item_id,genres,year,title\na,x|y,1999,Alpha\nb,y,2001,\nc,,,Gamma\nd,z,1990,Delta\n",
		"users.csv":  "user_id,segment\nu1,s1\nu9,s2\n",
	})
	ds, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatGeneric || len(ds.Events) != 4 || !ds.HasValues {
		t.Fatalf("got %v", ds)
	}
	// Time order, stable for the tie at 200 (u2,b before u1,c as in the file).
	wantItems := []string{"a", "b", "c", "b"}
	wantUsers := []string{"u1", "u2", "u1", "u3"}
	for i, e := range ds.Events {
		if ds.Items.String(e.Item) != wantItems[i] || ds.Users.String(e.User) != wantUsers[i] {
			t.Fatalf("event %d = %s/%s, want %s/%s", i, ds.Users.String(e.User), ds.Items.String(e.Item), wantUsers[i], wantItems[i])
		}
	}
	// Dense IDs by first appearance; attribute-only entities come last.
	if id, _ := ds.Items.Lookup("a"); id != 0 {
		t.Fatalf("a has id %d", id)
	}
	if id, _ := ds.Items.Lookup("d"); id != 3 {
		t.Fatalf("d has id %d", id)
	}
	if ds.NumUsers() != 4 {
		t.Fatalf("users %d", ds.NumUsers())
	}
	g := ds.ItemAttrs.Column("genres")
	if g == nil || len(g.Values[0]) != 2 || len(g.Values[2]) != 0 {
		t.Fatalf("genres %+v", g)
	}
	if len(ds.ItemAttrs.Numeric) != 1 || ds.ItemAttrs.Numeric[0].Name != "year" || ds.ItemAttrs.Numeric[0].Values[0] != 1999 || !math.IsNaN(float64(ds.ItemAttrs.Numeric[0].Values[2])) {
		t.Fatalf("numeric %+v", ds.ItemAttrs.Numeric)
	}
	if ds.ItemTitles[0] != "Alpha" || ds.ItemAttrs.Column("title") != nil {
		t.Fatal("title should be a display name, not an attribute")
	}
	if ds.Events[3].Time != 1704067200 {
		t.Fatalf("RFC 3339 time parsed as %d", ds.Events[3].Time)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string // substring: file:line and field
	}{
		{"generic bad timestamp", map[string]string{"events.csv": "user_id,item_id,timestamp\nu1,a,100\nu1,b,yesterday\n"}, "events.csv:3: field timestamp"},
		{"generic empty user", map[string]string{"events.csv": "user_id,item_id,timestamp\n,a,100\n"}, "events.csv:2: field user"},
		{"generic bad value", map[string]string{"events.csv": "user_id,item_id,timestamp,value\nu,a,100,NaN\n"}, "events.csv:2: field value"},
		{"generic missing column", map[string]string{"events.csv": "user,item_id,timestamp\nu,a,1\n"}, "events.csv:1: field user_id: missing column"},
		{"generic unknown column", map[string]string{"events.csv": "user_id,item_id,timestamp,rating\nu,a,1,2\n"}, "events.csv:1: field rating: unknown column"},
		{"generic field count", map[string]string{"events.csv": "user_id,item_id,timestamp\nu,a,1\nu,b\n"}, "events.csv:3: want 3 fields"},
		{"generic empty file", map[string]string{"events.csv": ""}, "events.csv:1: empty file"},
		{"generic items empty id", map[string]string{"events.csv": "user_id,item_id,timestamp\nu,a,1\n", "items.csv": "item_id,genres\n,x\n"}, "items.csv:2: field item_id"},
		{"ml-100k field count", map[string]string{"u.data": "1\t2\t3\t4\n1\t2\t3\n"}, "u.data:2: want 4"},
		{"ml-100k bad time", map[string]string{"u.data": "1\t2\t3\tx\n"}, "u.data:1: field timestamp"},
		{"ml-100k bad genre flag", map[string]string{"u.data": "1\t2\t3\t4\n", "u.item": "2|T|01-Jan-1995||url|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|2\n"}, "u.item:1: field Western"},
		{"ml-100k bad age", map[string]string{"u.data": "1\t2\t3\t4\n", "u.user": "1|old|M|x|1\n"}, "u.user:1: field age"},
		{"ml-1m field count", map[string]string{"ratings.dat": "1::2::3::4\n1::2\n"}, "ratings.dat:2: want 4"},
		{"ml-1m bad rating", map[string]string{"ratings.dat": "1::2::five::4\n"}, "ratings.dat:1: field value"},
		{"ml-latest missing column", map[string]string{"ratings.csv": "userId,movieId,timestamp\n1,2,3\n"}, "ratings.csv:1: field rating"},
		{"ml-latest bad time", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3.5,\n"}, "ratings.csv:2: field timestamp"},
		{"ml-latest bad quoting", map[string]string{"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3.5,4\n", "movies.csv": "movieId,title,genres\n1,\"Toy,Drama\n"}, "movies.csv:2"},
		{"nothing known", map[string]string{"notes.txt": "hi"}, "no known files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, c.files)
			_, err := Load(dir, LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoadSkipMalformed(t *testing.T) {
	dir := writeFiles(t, map[string]string{"events.csv": "user_id,item_id,timestamp\nu1,a,1\nu1,b,x\nu2\nu2,c,3\n"})
	_, err := Load(dir, LoadOptions{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 {
		t.Fatalf("want a ParseError at line 3, got %v", err)
	}
	var logged bytes.Buffer
	ds, err := Load(dir, LoadOptions{SkipMalformed: true, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Events) != 2 || ds.Skipped != 2 {
		t.Fatalf("events %d skipped %d, want 2 and 2", len(ds.Events), ds.Skipped)
	}
	// The skipped rows are named, in the data and in the log.
	if len(ds.SkippedRows) != 2 || ds.SkippedRows[0].Line != 3 || ds.SkippedRows[0].Field != "timestamp" || ds.SkippedRows[1].Line != 4 {
		t.Fatalf("skipped rows %+v", ds.SkippedRows)
	}
	if !strings.Contains(logged.String(), "events.csv:3") || !strings.Contains(logged.String(), "events.csv:4") {
		t.Fatalf("the log does not name the skipped lines:\n%s", logged.String())
	}
}

func TestLoadMovieLensFormats(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		format string
		genres int // genres of the first item
		year   float32
	}{
		{"ml-100k", map[string]string{
			"u.data": "1\t10\t5\t300\n2\t10\t3\t100\n",
			"u.item": "10|Caf\xe9 (1995)|4-Feb-1995||url|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
			"u.user": "1|24|M|technician|85711\n2|53|F|other|94043\n",
		}, FormatML100K, 2, 1995},
		{"ml-1m", map[string]string{
			"ratings.dat": "1::10::5::300\n2::10::3::100\n",
			"movies.dat":  "10::Caf\xe9 (1995)::Action|Adventure\n",
			"users.dat":   "1::M::25::4::85711\n2::F::35::1::94043\n",
		}, FormatML1M, 2, 1995},
		{"ml-latest", map[string]string{
			"ratings.csv": "userId,movieId,rating,timestamp\n1,10,5.0,300\n2,10,3.5,100\n",
			"movies.csv":  "movieId,title,genres\n10,\"Café, The (1995)\",Action|Adventure\n",
			"tags.csv":    "userId,movieId,tag,timestamp\n1,10,Funny,5\n2,10,funny,6\n",
		}, FormatMLLatest, 2, 1995},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := Load(writeFiles(t, c.files), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != c.format || len(ds.Events) != 2 {
				t.Fatalf("got %v", ds)
			}
			if ds.Users.String(ds.Events[0].User) != "2" || ds.Events[0].Time != 100 {
				t.Fatal("events not in time order")
			}
			if g := ds.ItemAttrs.Column("genres"); len(g.Values[0]) != c.genres {
				t.Fatalf("genres %v", g.Values)
			}
			if y := ds.ItemAttrs.Numeric[0].Values[0]; y != c.year {
				t.Fatalf("year %v", y)
			}
			if !strings.HasPrefix(ds.ItemTitles[0], "Caf\u00e9") {
				t.Fatalf("title %q not decoded", ds.ItemTitles[0])
			}
			if c.format == FormatMLLatest && len(ds.ItemAttrs.Column("tags").Values[0]) != 1 {
				t.Fatal("tags should be lower-cased and deduplicated")
			}
		})
	}
}

// TestLoadSharedMovieLens checks the real files when the shared data sets are present.
func TestLoadSharedMovieLens(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "datasets", "ml-100k")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data set %s is absent: skipping (tests never need it)", dir)
	}
	ds, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := TemporalSplit(ds.Events, 0.9)
	if len(ds.Events) != 100_000 || len(s.Train) != 90_000 || ds.NumUsers() != 943 || ds.NumItems() != 1682 {
		t.Fatalf("got %v, train %d", ds, len(s.Train))
	}
}
