package datafetch

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// makeZip builds an archive of the given files (name → content), in name order.
func makeZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyML100K is a made-up log in the MovieLens 100K layout (no licensed data).
func tinyML100K() map[string]string {
	return map[string]string{
		"ml-100k/u.data":   "1\t10\t5\t881250949\n1\t11\t3\t881250950\n2\t10\t4\t881250951\n",
		"ml-100k/README":   "made up for a test\n",
		"__MACOSX/ignored": "resource fork",
	}
}

func md5Line(archive string, data []byte) string {
	sum := md5.Sum(data)
	return fmt.Sprintf("MD5 (%s) = %s\n", archive, hex.EncodeToString(sum[:]))
}

// server serves files by path and counts requests; handlers may override paths.
type server struct {
	*httptest.Server
	files    map[string][]byte
	handlers map[string]http.HandlerFunc
	requests atomic.Int64
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, handlers: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/movielens/")
		if h, ok := s.handlers[name]; ok {
			h(w, r)
			return
		}
		data, ok := s.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) options(dir string) Options {
	return Options{BaseURL: s.URL + "/movielens/", Dir: dir, Client: s.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Progress: progress.Options{Disabled: true}}
}

// leftovers lists what is in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFetchDownloadsVerifiesUnpacks(t *testing.T) {
	archive := makeZip(t, tinyML100K())
	srv := newServer(t, map[string][]byte{"ml-100k.zip": archive, "ml-100k.zip.md5": []byte(md5Line("ml-100k.zip", archive))})
	dir := filepath.Join(t.TempDir(), "cache")
	got, err := Fetch(context.Background(), "ml-100k", srv.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "ml-100k"); got != want {
		t.Errorf("path %s, want %s", got, want)
	}
	ds, err := dataset.Load(got, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Events) != 3 || ds.Format != dataset.FormatML100K {
		t.Errorf("loaded %v", ds)
	}
	if names := leftovers(t, dir); len(names) != 1 || names[0] != "ml-100k" {
		t.Errorf("cache holds %v, want only ml-100k", names)
	}
	if _, err := os.Stat(filepath.Join(got, "ignored")); err == nil {
		t.Error("an entry outside the archive's ml-100k/ was unpacked")
	}
	// A second fetch finds it without the network.
	before := srv.requests.Load()
	if again, err := Fetch(context.Background(), "ml-100k", srv.options(dir)); err != nil || again != got {
		t.Fatalf("second fetch: %s %v", again, err)
	}
	if n := srv.requests.Load() - before; n != 0 {
		t.Errorf("second fetch made %d requests", n)
	}
}

func TestFetchChecksumMismatchKeepsNothing(t *testing.T) {
	archive := makeZip(t, tinyML100K())
	other := makeZip(t, map[string]string{"ml-100k/u.data": "1\t1\t1\t1\n"})
	srv := newServer(t, map[string][]byte{"ml-100k.zip": archive, "ml-100k.zip.md5": []byte(md5Line("ml-100k.zip", other))})
	dir := t.TempDir()
	_, err := Fetch(context.Background(), "ml-100k", srv.options(dir))
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ChecksumError, got %v", err)
	}
	sum := md5.Sum(archive)
	if ce.Got != hex.EncodeToString(sum[:]) || !strings.Contains(err.Error(), "ml-100k.zip") {
		t.Errorf("error %v", err)
	}
	if names := leftovers(t, dir); len(names) != 0 {
		t.Errorf("cache holds %v after a checksum mismatch", names)
	}
}

func TestFetchInterruptedDownloadKeepsNothing(t *testing.T) {
	archive := makeZip(t, tinyML100K())
	srv := newServer(t, map[string][]byte{"ml-100k.zip.md5": []byte(md5Line("ml-100k.zip", archive))})
	srv.handlers["ml-100k.zip"] = func(w http.ResponseWriter, r *http.Request) {
		// Announce the whole archive, send half of it, and drop the connection.
		w.Header().Set("Content-Length", fmt.Sprint(len(archive)))
		w.WriteHeader(http.StatusOK)
		w.Write(archive[:len(archive)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	dir := t.TempDir()
	_, err := Fetch(context.Background(), "ml-100k", srv.options(dir))
	var de *DownloadError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "run the command again") {
		t.Fatalf("want an interrupted *DownloadError, got %v", err)
	}
	if names := leftovers(t, dir); len(names) != 0 {
		t.Errorf("cache holds %v after an interrupted download", names)
	}
}

func TestFetchOfflineSaysWhereToPutFiles(t *testing.T) {
	srv := newServer(t, nil)
	opt := srv.options(t.TempDir())
	srv.Close() // nothing listens any more
	_, err := Fetch(context.Background(), "ml-latest-small", opt)
	var de *DownloadError
	if !errors.As(err, &de) {
		t.Fatalf("want a *DownloadError, got %v", err)
	}
	target := filepath.Join(opt.Dir, "ml-latest-small")
	for _, want := range []string{"Without network access", opt.BaseURL + "ml-latest-small.zip", "ml-latest-small.zip.md5", target} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Files put there by hand are found without the network.
	os.MkdirAll(target, 0o755)
	os.WriteFile(filepath.Join(target, "ratings.csv"), []byte("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"), 0o644)
	if got, err := Fetch(context.Background(), "ml-latest-small", opt); err != nil || got != target {
		t.Fatalf("by hand: %s %v", got, err)
	}
}

func TestFetchRefuses(t *testing.T) {
	good := makeZip(t, tinyML100K())
	for _, c := range []struct {
		name    string
		set     string
		archive []byte
		md5     string // "" means the archive's own sum
		status  int    // of the archive; 0 means 200
		want    string
	}{
		{"unknown set", "ml-5k", good, "", 0, `unknown data set "ml-5k" (known: ml-100k, ml-1m, ml-latest-small, ml-25m)`},
		{"missing archive", "ml-100k", good, "", http.StatusNotFound, "HTTP 404"},
		{"climbing entry", "ml-100k", makeZip(t, map[string]string{"ml-100k/../../evil": "x", "ml-100k/u.data": "1\t1\t1\t1\n"}), "", 0, "unsafe name"},
		{"absolute entry", "ml-100k", makeZip(t, map[string]string{"/etc/evil": "x"}), "", 0, "unsafe name"},
		{"other layout", "ml-100k", makeZip(t, map[string]string{"data/u.data": "1\t1\t1\t1\n"}), "", 0, "no ml-100k/ directory"},
		{"wrong files", "ml-100k", makeZip(t, map[string]string{"ml-100k/ratings.csv": "userId,movieId,rating,timestamp\n"}), "", 0, "does not hold a ml-100k data set"},
		{"sum for another archive", "ml-100k", good, "MD5 (ml-1m.zip) = 00000000000000000000000000000000", 0, `names "ml-1m.zip"`},
		{"garbage sum", "ml-100k", good, "<html>not found</html>", 0, "want \"MD5 (ml-100k.zip) = <32 hex digits>\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := c.md5
			if sum == "" {
				sum = md5Line("ml-100k.zip", c.archive)
			}
			srv := newServer(t, map[string][]byte{"ml-100k.zip": c.archive, "ml-100k.zip.md5": []byte(sum)})
			if c.status != 0 {
				srv.handlers["ml-100k.zip"] = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(c.status) }
			}
			dir := t.TempDir()
			_, err := Fetch(context.Background(), c.set, srv.options(dir))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if names := leftovers(t, dir); len(names) != 0 {
				t.Errorf("cache holds %v", names)
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "..", "evil")); err == nil {
				t.Error("an entry escaped the cache")
			}
		})
	}
}

// A directory in the way that does not hold the set is an error, not overwritten.
func TestFetchExistingDirectoryWithoutTheSet(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ml-1m"), 0o755)
	os.WriteFile(filepath.Join(dir, "ml-1m", "notes.txt"), []byte("mine"), 0o644)
	_, err := Fetch(context.Background(), "ml-1m", Options{Dir: dir, BaseURL: "http://127.0.0.1:1/", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "holds no ml-1m data set") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ml-1m", "notes.txt")); string(b) != "mine" {
		t.Error("the directory was touched")
	}
}
